package compare

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"strconv"

	"github.com/weirlab/weir/datasets"
)

// checkData reports built-in data of workload w under d that cannot be
// generated: a timeline of event time longer than event times can span
// ([datasets.Config.CheckTimeline]; Field "DataSpec.EventRate", or
// "DataSpec.Rate" when the paced rate sets the event rate), or a log that
// would take more than half of limit bytes of memory
// ([datasets.LogBytes]; Field "DataSpec.Events" or "DataSpec.Partitions"),
// the other half being left to the runtime and the reference answer. limit
// 0 means unknown: no memory check. Data read from d.InputDir is not
// checked: its size is the file's. d must be valid ([DataSpec.Validate]).
//
// It runs before anything is generated, so an impossible run is refused
// at once rather than killed by the kernel when memory runs out or left
// waiting for event times that have overflowed.
func checkData(w *Workload, d DataSpec, limit int64) error {
	if d.InputDir != "" {
		return nil
	}
	cfg := DataConfig(w, d)
	if err := checkMemory(w, d, cfg, limit); err != nil {
		return err
	}
	if err := cfg.CheckTimeline(); err != nil {
		if d.EventRate == 0 && d.Rate > 0 {
			return &FieldError{Field: "DataSpec.Rate", Err: fmt.Errorf("paced, event time follows the wall clock at the paced rate: %w", err)}
		}
		return &FieldError{Field: "DataSpec.EventRate", Err: err}
	}
	return nil
}

// checkMemory is checkData's memory check of cfg, the config of d: the
// cheap bound [datasets.MaxLogBytes] (every chunk wide) first, and only
// when it does not fit the estimate of the sealed log, [datasets.LogBytes]
// (a sample of the data is generated to measure it).
func checkMemory(w *Workload, d DataSpec, cfg datasets.Config, limit int64) error {
	gen, err := datasets.Lookup(w.Dataset)
	if err != nil || limit <= 0 {
		return nil // LoadData reports an unknown dataset
	}
	budget := limit / 2
	if datasets.MaxLogBytes(gen, cfg) <= budget {
		return nil
	}
	need := datasets.LogBytes(gen, cfg)
	if need <= budget {
		return nil
	}
	events := cfg.Events
	sealed := datasets.SealedRowBytes(gen, cfg)
	chunk := chunkRows * datasets.RowBytes(gen)
	parts := int64(max(d.Partitions, 4))
	if events <= maxEvents(budget, sealed, 0) {
		// The events fit; the open chunks of many partitions do not.
		room := budget - int64(float64(events)*sealed)
		return &FieldError{Field: "DataSpec.Partitions", Err: fmt.Errorf(
			"%d partitions of %d %s events take up to about %s in the log (each partition with data holds an open chunk of %d rows, %s, while the log is filled), more than half of the %s of memory this process may use (the runtime and the check need the rest); use at most %d partitions",
			parts, events, w.Dataset, byteText(need), chunkRows, byteText(chunk), byteText(limit), max(room/chunk, 1))}
	}
	return &FieldError{Field: "DataSpec.Events", Err: fmt.Errorf(
		"%d %s events take about %s in the log (%.1f bytes an event in its sealed chunks, measured on a sample, and %s for each partition's open chunk), more than half of the %s of memory this process may use (the runtime and the check need the rest); use at most about %d events",
		events, w.Dataset, byteText(need), sealed, byteText(chunk), byteText(limit), maxEvents(budget, sealed, min(parts, events)*chunk))}
}

// chunkRows is the rows of a log chunk ([datasets.Config.ChunkRows], which
// compare leaves at its default).
const chunkRows = 1 << 16

// maxEvents is about the most events of sealed bytes each whose log fits
// in budget bytes beside open bytes of open chunks, leaving an eighth for
// the slack of estimating from a sample.
func maxEvents(budget int64, sealed float64, open int64) int64 {
	n := int64(float64(max(budget-open, 0)) / sealed)
	return n - n/8
}

// byteText prints a byte count in binary units.
func byteText(b int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v := float64(b)
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", b)
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// memoryLimit returns the bytes of memory this process may use: the least
// of the Go runtime's memory limit (GOMEMLIMIT, [debug.SetMemoryLimit]),
// the cgroup's memory.max and the machine's MemTotal; 0 when none is known.
// It reads them each time, so nothing is cached between runs.
func memoryLimit() int64 {
	limit := int64(math.MaxInt64)
	if l := debug.SetMemoryLimit(-1); l > 0 { // -1 reads the limit
		limit = l
	}
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if v, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64); err == nil && v > 0 { // "max": none
			limit = min(limit, v)
		}
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		if v := memTotal(f); v > 0 {
			limit = min(limit, v)
		}
		f.Close()
	}
	if limit == math.MaxInt64 {
		return 0
	}
	return limit
}

// memTotal parses the MemTotal line of /proc/meminfo ("MemTotal: 24000000
// kB") into bytes; 0 when there is none.
func memTotal(r io.Reader) int64 {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var kb int64
		if n, _ := fmt.Sscanf(sc.Text(), "MemTotal: %d kB", &kb); n == 1 && kb > 0 {
			return kb << 10
		}
	}
	return 0
}
