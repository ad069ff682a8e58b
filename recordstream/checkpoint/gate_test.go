package checkpoint

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/internal/script"
)

// step hands g one input and returns its outputs in a new slice.
func step[T any](t *testing.T, g *Gate[T], in Input[T]) []Output[T] {
	t.Helper()
	outs, err := g.Step(nil, in)
	require.NoError(t, err, "Step(%v)", in.Kind)
	return outs
}

// TestGateScripts runs the gate's script tests, testdata/gate/*.txt (see
// internal/script for the format; regenerate the expected output with
// go test ./recordstream/checkpoint -update). Commands:
//
//	gate mode=aligned|unaligned|at-least-once channels=N   a new gate
//	record ch=C v=V          a record V from channel C (v=(a,b) for several)
//	barrier ch=C id=N [t=MS] barrier N from channel C, received at MS ms
//	end ch=C                 end-of-stream of channel C
//	cancel id=N              cancel checkpoint N
//	state                    pending checkpoint, blocked and retaining channels, buffered messages
//
// Each output of the gate is one line: "record ch=C V", "snapshot chk-N",
// "channel-state chk-N (C:V,V C:V)", "abort chk-N REASON", "end"; a
// snapshot or channel state with a non-zero alignment adds "align=D". A
// rejected input prints "error: ..." and leaves the gate as it was.
func TestGateScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/gate/*.txt")
	require.NoError(t, err)
	require.NotEmpty(t, files, "no script in testdata/gate")
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			var h gateHarness // a fresh gate per file
			script.RunFile(t, path, h.run)
		})
	}
}

// gateHarness holds the gate a script file is driving.
type gateHarness struct {
	g    *Gate[string]
	outs []Output[string]
}

func (h *gateHarness) run(t *testing.T, c *script.Cmd) string {
	if c.Name == "gate" {
		name, _ := c.Arg("mode")
		cfg := GateConfig{Mode: 255, Channels: c.Int(t, "channels")}
		for m := Aligned; m <= AtLeastOnce; m++ {
			if m.String() == name {
				cfg.Mode = m
			}
		}
		g, err := NewGate[string](cfg)
		if err != nil {
			return "error: " + err.Error()
		}
		h.g = g
		return ""
	}
	require.NotNil(t, h.g, "%s: %s before a gate command", c.Pos, c.Name)
	var ins []Input[string]
	switch c.Name {
	case "record":
		for _, a := range c.Args {
			if a.Key == "v" {
				for _, v := range a.Vals {
					ins = append(ins, Input[string]{Kind: InRecord, Channel: c.Int(t, "ch"), Record: v})
				}
			}
		}
	case "barrier":
		in := Input[string]{Kind: InBarrier, Channel: c.Int(t, "ch"), ID: ID(c.Int(t, "id"))}
		if _, ok := c.Arg("t"); ok {
			in.Now = time.UnixMilli(int64(c.Int(t, "t")))
		}
		ins = append(ins, in)
	case "end":
		ins = append(ins, Input[string]{Kind: InEnd, Channel: c.Int(t, "ch")})
	case "cancel":
		ins = append(ins, Input[string]{Kind: InCancel, ID: ID(c.Int(t, "id"))})
	case "state":
		return h.state()
	default:
		t.Fatalf("%s: unknown command %q", c.Pos, c.Name)
	}
	var b strings.Builder
	for _, in := range ins {
		var err error
		h.outs, err = h.g.Step(h.outs[:0], in)
		if err != nil {
			fmt.Fprintf(&b, "error: %v\n", err)
			continue
		}
		for _, o := range h.outs {
			b.WriteString(formatOutput(o))
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func formatOutput(o Output[string]) string {
	var s string
	switch o.Kind {
	case OutRecord:
		return fmt.Sprintf("%v ch=%d %s", o.Kind, o.Channel, o.Record)
	case OutSnapshot:
		s = fmt.Sprintf("%v %v", o.Kind, o.ID)
	case OutChannelState:
		var parts []string
		for c, rs := range o.ChannelState {
			if len(rs) > 0 {
				parts = append(parts, fmt.Sprintf("%d:%s", c, strings.Join(rs, ",")))
			}
		}
		s = fmt.Sprintf("%v %v (%s)", o.Kind, o.ID, strings.Join(parts, " "))
	case OutAbort:
		return fmt.Sprintf("%v %v %v", o.Kind, o.ID, o.Reason)
	default:
		return o.Kind.String()
	}
	if o.Alignment != 0 {
		s += " align=" + o.Alignment.String()
	}
	return s
}

func (h *gateHarness) state() string {
	g := h.g
	var blocked, retains []string
	for ch := range g.ended {
		if g.Blocked(ch) {
			blocked = append(blocked, strconv.Itoa(ch))
		}
		if g.Retains(ch) {
			retains = append(retains, strconv.Itoa(ch))
		}
	}
	pending := "none"
	if id, ok := g.Pending(); ok {
		pending = id.String()
	}
	return fmt.Sprintf("pending: %s\nblocked: (%s)\nretains: (%s)\nbuffered: %d\n",
		pending, strings.Join(blocked, ","), strings.Join(retains, ","), g.Buffered())
}

// TestGateErrors checks that bad inputs are errors that leave the gate and
// dst as they were.
func TestGateErrors(t *testing.T) {
	_, err := NewGate[int](GateConfig{})
	assert.ErrorContains(t, err, "at least one input channel")
	_, err = NewGate[int](GateConfig{Channels: 1, Mode: AtLeastOnce + 1})
	assert.ErrorContains(t, err, "unknown checkpointing mode")

	g, err := NewGate[int](GateConfig{Channels: 2})
	require.NoError(t, err)
	dst := []Output[int]{{Kind: OutRecord, Record: 9}}
	step(t, g, Input[int]{Kind: InBarrier, Channel: 0, ID: 1})
	for _, in := range []Input[int]{
		{Kind: InRecord, Channel: 2},
		{Kind: InBarrier, Channel: -1, ID: 1},
		{Kind: 0, Channel: 0},
		{Kind: InCancel + 1, Channel: 0},
	} {
		got, err := g.Step(dst, in)
		assert.Error(t, err, "Step(%+v)", in)
		assert.Equal(t, dst, got, "Step(%+v) returns dst as given", in)
	}
	_, err = g.Step(nil, Input[int]{Kind: InRecord, Channel: 2})
	assert.ErrorIs(t, err, ErrChannel)
	_, err = g.Step(nil, Input[int]{Kind: 7})
	assert.ErrorIs(t, err, ErrInputKind)
	id, pending := g.Pending()
	assert.Equal(t, ID(1), id)
	assert.True(t, pending, "the errors left checkpoint 1 pending")
	assert.True(t, g.Blocked(0))
	assert.Zero(t, g.Buffered())

	step(t, g, Input[int]{Kind: InEnd, Channel: 1}) // aborts 1, unblocks 0
	_, err = g.Step(nil, Input[int]{Kind: InRecord, Channel: 1})
	assert.ErrorIs(t, err, ErrEnded)
	_, err = g.Step(nil, Input[int]{Kind: InEnd, Channel: 1})
	assert.ErrorIs(t, err, ErrEnded)
	assert.Equal(t, []Output[int]{{Kind: OutRecord, Channel: 0, Record: 3}},
		step(t, g, Input[int]{Kind: InRecord, Channel: 0, Record: 3}), "channel 0 after the errors")
}

// TestGateAlignedNeverReorders checks CK5 on random interleavings: in Aligned
// mode, every record a channel sent before barrier n is emitted before
// snapshot n, and every record it sent after barrier n after it; and each
// channel's records come out in order, each once.
func TestGateAlignedNeverReorders(t *testing.T) {
	for seed := range uint64(50) {
		r := newRand(seed)
		const channels, perChannel, barriers = 3, 40, 4
		// Per channel: records 0..perChannel-1 with barriers 1..4 evenly.
		type msg struct {
			barrier ID
			rec     int
		}
		var streams [channels][]msg
		for c := range channels {
			for i := range perChannel {
				if i%(perChannel/barriers) == 0 && i > 0 {
					streams[c] = append(streams[c], msg{barrier: ID(i / (perChannel / barriers))})
				}
				streams[c] = append(streams[c], msg{rec: c*1000 + i})
			}
		}
		epochOf := func(rec int) ID { return ID((rec % 1000) / (perChannel / barriers)) }
		var epoch ID // snapshots emitted so far
		next := [channels]int{}
		g, err := NewGate[int](GateConfig{Channels: channels})
		require.NoError(t, err)
		var outs []Output[int]
		pos := [channels]int{}
		for {
			var live []int
			for c := range channels {
				if pos[c] < len(streams[c]) {
					live = append(live, c)
				}
			}
			if len(live) == 0 {
				break
			}
			c := live[r.IntN(len(live))]
			m := streams[c][pos[c]]
			pos[c]++
			in := Input[int]{Kind: InRecord, Channel: c, Record: m.rec}
			if m.barrier != 0 {
				in = Input[int]{Kind: InBarrier, Channel: c, ID: m.barrier}
			}
			outs, err = g.Step(outs[:0], in)
			require.NoError(t, err)
			for _, o := range outs {
				switch o.Kind {
				case OutRecord:
					if epochOf(o.Record) != epoch {
						t.Fatalf("seed %d: record %d of epoch %d emitted after snapshot %d", seed, o.Record, epochOf(o.Record), epoch)
					}
					if want := o.Channel*1000 + next[o.Channel]; o.Record != want {
						t.Fatalf("seed %d: channel %d emitted %d, want %d", seed, o.Channel, o.Record, want)
					}
					next[o.Channel]++
				case OutSnapshot:
					epoch++
					if o.ID != epoch {
						t.Fatalf("seed %d: snapshot %d, want %d", seed, o.ID, epoch)
					}
				}
			}
		}
		assert.Equal(t, ID(barriers-1), epoch, "seed %d", seed)
		for c := range channels {
			assert.Equal(t, perChannel, next[c], "seed %d: records of channel %d", seed, c)
		}
	}
}

// TestGateStepAllocs locks in the steady state: Step allocates nothing for
// a record on an unblocked channel, nor for a whole aligned checkpoint
// (barriers, a held record, the snapshot and the release) with a reused
// dst, once the queues have grown.
func TestGateStepAllocs(t *testing.T) {
	t.Run("record", func(t *testing.T) {
		g, err := NewGate[int](GateConfig{Channels: 4})
		require.NoError(t, err)
		dst := make([]Output[int], 0, 4)
		allocs := testing.AllocsPerRun(1000, func() {
			dst, _ = g.Step(dst[:0], Input[int]{Kind: InRecord, Channel: 2, Record: 7})
		})
		assert.Zero(t, allocs, "Step(record) on an unblocked channel")
	})
	t.Run("aligned-checkpoint", func(t *testing.T) {
		g, err := NewGate[int](GateConfig{Channels: 2})
		require.NoError(t, err)
		dst := make([]Output[int], 0, 8)
		id := ID(0)
		now := time.Unix(0, 0)
		cycle := func() {
			id++
			dst, _ = g.Step(dst[:0], Input[int]{Kind: InRecord, Channel: 1, Record: 1})
			dst, _ = g.Step(dst[:0], Input[int]{Kind: InBarrier, Channel: 0, ID: id, Now: now})
			dst, _ = g.Step(dst[:0], Input[int]{Kind: InRecord, Channel: 0, Record: 2}) // held
			dst, _ = g.Step(dst[:0], Input[int]{Kind: InRecord, Channel: 0, Record: 3}) // held
			dst, _ = g.Step(dst[:0], Input[int]{Kind: InBarrier, Channel: 1, ID: id, Now: now})
		}
		cycle() // grow the queue once
		require.Len(t, dst, 3, "the last step of a cycle: snapshot and two released records")
		allocs := testing.AllocsPerRun(200, cycle)
		assert.Zero(t, allocs, "one aligned checkpoint cycle")
		assert.Equal(t, []Output[int]{
			{Kind: OutSnapshot, ID: id},
			{Kind: OutRecord, Channel: 0, Record: 2},
			{Kind: OutRecord, Channel: 0, Record: 3},
		}, dst)
	})
}

func BenchmarkGateRecord(b *testing.B) {
	g, err := NewGate[int](GateConfig{Channels: 4})
	require.NoError(b, err)
	dst := make([]Output[int], 0, 4)
	n := 0
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		dst, _ = g.Step(dst[:0], Input[int]{Kind: InRecord, Channel: i & 3, Record: 1})
		n += dst[0].Record
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/record")
}

// FuzzGate feeds a gate arbitrary message sequences (each byte: a channel
// and a record, barrier or cancel) and then ends every channel. Whatever the
// mode and the sequence, every record comes out exactly once, each channel's
// in order, snapshot ids increase, and the gate ends once.
func FuzzGate(f *testing.F) {
	f.Add(uint8(0), []byte{0x00, 0x41, 0x10, 0x51, 0x01})
	f.Add(uint8(1), []byte{0x40, 0x00, 0x81, 0x40, 0x41, 0x11})
	f.Add(uint8(2), []byte{0x40, 0x41, 0x80, 0x00, 0x01, 0xc2})
	f.Fuzz(func(t *testing.T, mode uint8, ops []byte) {
		const channels = 3
		type rec struct{ ch, seq int }
		next := [channels]int{}
		sent := [channels]int{}
		var lastSnap ID
		ends := 0
		g, err := NewGate[rec](GateConfig{Mode: Mode(mode % 3), Channels: channels})
		require.NoError(t, err)
		var outs []Output[rec]
		feed := func(in Input[rec]) {
			outs, err = g.Step(outs[:0], in)
			require.NoError(t, err)
			for _, o := range outs {
				switch o.Kind {
				case OutRecord:
					if o.Record.seq != next[o.Record.ch] {
						t.Fatalf("channel %d emitted record %d, want %d", o.Record.ch, o.Record.seq, next[o.Record.ch])
					}
					next[o.Record.ch]++
				case OutSnapshot:
					if o.ID <= lastSnap {
						t.Fatalf("snapshot %d after %d", o.ID, lastSnap)
					}
					lastSnap = o.ID
				case OutEnd:
					ends++
				}
			}
		}
		now := time.Unix(0, 0)
		for _, op := range ops {
			ch := int(op&0x3f) % channels
			switch op >> 6 {
			case 0, 1:
				feed(Input[rec]{Kind: InRecord, Channel: ch, Record: rec{ch, sent[ch]}})
				sent[ch]++
			case 2:
				feed(Input[rec]{Kind: InBarrier, Channel: ch, ID: ID(op&0x0f) + 1, Now: now})
			case 3:
				feed(Input[rec]{Kind: InCancel, ID: ID(op&0x0f) + 1})
			}
		}
		for ch := range channels {
			feed(Input[rec]{Kind: InEnd, Channel: ch})
		}
		assert.Equal(t, sent, next, "records emitted per channel")
		assert.Equal(t, 1, ends, "end emitted once")
		assert.Zero(t, g.Buffered(), "records left in the gate")
	})
}

// TestEnumNames pins the names the package's enums print (generated by
// stringer -linecomment): results, logs and the CLI show them.
func TestEnumNames(t *testing.T) {
	for _, tc := range []struct {
		got  fmt.Stringer
		want string
	}{
		{Aligned, "aligned"}, {Unaligned, "unaligned"}, {AtLeastOnce, "at-least-once"},
		{OutRecord, "record"}, {OutSnapshot, "snapshot"}, {OutChannelState, "channel-state"}, {OutAbort, "abort"}, {OutEnd, "end"},
		{InRecord, "record"}, {InBarrier, "barrier"}, {InEnd, "end"}, {InCancel, "cancel"},
		{AbortSubsumed, "subsumed"}, {AbortTimeout, "timeout"}, {AbortEndOfStream, "end-of-stream"}, {AbortDeclined, "declined"},
		{AbortCancelled, "cancelled"}, {AbortRestart, "restart"}, {AbortTooManyPending, "too-many-pending"},
		{EventTrigger, "trigger"}, {EventComplete, "complete"}, {EventAbort, "abort"},
		{Mode(7), "Mode(7)"}, {OutputKind(0), "OutputKind(0)"}, {AbortReason(0), "AbortReason(0)"},
	} {
		assert.Equal(t, tc.want, tc.got.String(), "%T(%d).String()", tc.got, tc.got)
	}
}
