package dataflow

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReferenceExcludeWindows: a record is left out of exactly the windows
// whose end lies in the excluded range, per key.
func TestReferenceExcludeWindows(t *testing.T) {
	s := NewSchema(Field{Name: "k", Kind: KindString}, Field{Name: "event_time", Kind: KindTimestamp})
	recs := []Record{
		{Partition: 0, Offset: 0, Row: Row{Str("a"), Timestamp(5_000)}},
		{Partition: 0, Offset: 1, Row: Row{Str("b"), Timestamp(5_000)}},
	}
	seq := func(yield func(Record) bool) {
		for _, r := range recs {
			if !yield(r) {
				return
			}
		}
	}
	p := NewPipeline("x", s).Aggregate(Aggregation{
		Key: []string{"k"}, Window: SlidingWindows(20*time.Second, 10*time.Second), Domain: EventTime, TimeCol: "event_time",
		Aggs: []Agg{Count()},
	})
	require.NoError(t, p.Validate())
	for _, tc := range []struct {
		name   string
		lo, hi Time
		key    string
		want   []string // window end and key of each result
	}{
		{"nothing", 0, 0, "zz", []string{"10000 a", "10000 b", "20000 a", "20000 b"}},
		{"all windows of a", MinTime, MaxTime, "a", []string{"10000 b", "20000 b"}},
		{"windows ending at or before 10 s (Spark)", MinTime, 10_000, "a", []string{"10000 b", "20000 a", "20000 b"}},
		{"windows ending after 10 s (lost at a crash)", 10_000, MaxTime, "", []string{"10000 a", "10000 b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := Reference(p, seq, ReferenceOptions{ExcludeWindows: func(part int, off int64, key string) (Time, Time, bool) {
				return tc.lo, tc.hi, off == 0 && (tc.key == "" || key == tc.key) || tc.key == ""
			}})
			require.NoError(t, err)
			var got []string
			for _, r := range rs {
				got = append(got, fmt.Sprintf("%d %s", r.Window.End, r.Key))
			}
			slices.Sort(got)
			assert.Equal(t, tc.want, got)
		})
	}
}
