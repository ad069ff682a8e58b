package compare

import (
	"os"
	"testing"

	"github.com/weirlab/weir/recordstream"
)

// Temporary profiling harness (recordstream engineer); removed before handoff.
func TestZZRecordstreamProfile(t *testing.T) {
	name := os.Getenv("RSPROF")
	if name == "" {
		t.Skip()
	}
	w, err := LookupWorkload(name)
	if err != nil {
		t.Fatal(err)
	}
	log, tables, err := LoadData(t.Context(), w, DataSpec{Events: 1000000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	p, err := w.Pipeline(tables)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []recordstream.Guarantee{recordstream.AtMostOnce, recordstream.AtLeastOnce} {
		rep, err := recordstream.Run(t.Context(), p, log, recordstream.Config{Guarantee: g, Parallelism: 2, SampleInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%v: %d events in %v = %.0f events/s", g, rep.Events, rep.Elapsed, float64(rep.Events)/rep.Elapsed.Seconds())
	}
}
