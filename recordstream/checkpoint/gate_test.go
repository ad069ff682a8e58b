package checkpoint

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func formatOutput(o Output[string]) string {
	switch o.Kind {
	case OutRecord:
		return o.Record
	case OutSnapshot:
		return "snap" + strconv.FormatUint(uint64(o.ID), 10)
	case OutChannelState:
		var parts []string
		for c, rs := range o.ChannelState {
			if len(rs) > 0 {
				parts = append(parts, fmt.Sprintf("%d:%s", c, strings.Join(rs, ",")))
			}
		}
		return fmt.Sprintf("state%d[%s]", o.ID, strings.Join(parts, " "))
	case OutAbort:
		return fmt.Sprintf("abort%d(%v)", o.ID, o.Reason)
	case OutEnd:
		return "end"
	}
	return "?"
}

// runGate feeds a script to a gate: "r<ch>:<rec>" a record, "b<ch>:<id>" a
// barrier, "e<ch>" an end-of-stream, "x<id>" a cancel; step i happens at
// i ms. It returns the outputs of each step.
func runGate(t *testing.T, mode Mode, channels int, script string) []string {
	t.Helper()
	g, err := NewGate[string](GateConfig{Mode: mode, Channels: channels})
	require.NoError(t, err)
	var got []string
	var outs []Output[string]
	t0 := time.Unix(0, 0)
	for i, st := range strings.Fields(script) {
		now := t0.Add(time.Duration(i) * time.Millisecond)
		ch, arg, _ := strings.Cut(st[1:], ":")
		c, _ := strconv.Atoi(ch)
		var in Input[string]
		switch st[0] {
		case 'r':
			in = Input[string]{Kind: InRecord, Channel: c, Record: arg}
		case 'b':
			id, _ := strconv.Atoi(arg)
			in = Input[string]{Kind: InBarrier, Channel: c, ID: ID(id), Now: now}
		case 'e':
			in = Input[string]{Kind: InEnd, Channel: c}
		case 'x':
			in = Input[string]{Kind: InCancel, ID: ID(c)}
		}
		outs, err = g.Step(outs[:0], in)
		require.NoError(t, err)
		var strs []string
		for _, o := range outs {
			strs = append(strs, formatOutput(o))
		}
		got = append(got, strings.Join(strs, " "))
	}
	return got
}

// step hands g one input and returns its outputs in a new slice.
func step[T any](t *testing.T, g *Gate[T], in Input[T]) []Output[T] {
	t.Helper()
	outs, err := g.Step(nil, in)
	require.NoError(t, err, "Step(%v)", in.Kind)
	return outs
}

// TestGate checks the barrier handler over event sequences: each case is a
// script and the outputs of each of its steps ("-" for none).
func TestGate(t *testing.T) {
	cases := []struct {
		name     string
		mode     Mode
		channels int
		script   string
		want     string // outputs per step, separated by " | "
	}{
		{"aligned: one channel, no alignment", Aligned, 1,
			"r0:a b0:1 r0:b e0",
			"a | snap1 | b | end"},
		{"aligned: blocks the channel whose barrier arrived, releases after the snapshot", Aligned, 2,
			"r0:a b0:1 r0:b r1:c r0:d b1:1 r1:e",
			"a | - | - | c | - | snap1 b d | e"},
		{"aligned: a queued later barrier blocks again", Aligned, 2,
			"b0:1 r0:a b0:2 r0:b r1:c b1:1 r1:d b1:2",
			"- | - | - | - | c | snap1 a | d | snap2 b"},
		{"aligned: newer barrier subsumes the pending checkpoint", Aligned, 2,
			"b0:1 r0:a b1:2 r1:b b0:2 r1:c",
			"- | - | abort1(subsumed) a | - | snap2 b | c"},
		{"aligned: obsolete barriers are ignored", Aligned, 2,
			"b0:2 b1:2 b0:1 r0:a b1:2 r1:b",
			"- | snap2 | - | a | - | b"},
		{"aligned: end of stream aborts the pending checkpoint", Aligned, 2,
			"b0:1 r0:a e1 b0:2 r0:b e0",
			"- | - | abort1(end-of-stream) a | snap2 | b | end"},
		{"aligned: cancel releases the blocked channel", Aligned, 2,
			"b0:1 r0:a x1 r0:b",
			"- | - | abort1(cancelled) a | b"},
		{"aligned: end of a blocked channel waits in its queue", Aligned, 2,
			"b0:1 e0 r1:a b1:1 e1",
			"- | - | a | snap1 | end"},
		{"unaligned: snapshot at the first barrier, in-flight records are channel state", Unaligned, 3,
			"r1:a b0:1 r0:b r1:c r2:d r2:e b2:1 r1:f b1:1 r1:g",
			"a | snap1 | b | c | d | e | - | f | state1[1:c,f 2:d,e] | g"},
		{"unaligned: newer barrier aborts the pending one", Unaligned, 2,
			"b0:1 r1:a b0:2 r1:b b1:2",
			"snap1 | a | abort1(subsumed) snap2 | b | state2[1:b]"},
		{"at-least-once: never blocks, snapshots when all barriers arrived", AtLeastOnce, 2,
			"b0:1 r0:a r1:b b1:1 r0:c",
			"- | a | b | snap1 | c"},
		{"at-least-once: completing a newer checkpoint drops older ones", AtLeastOnce, 2,
			"b0:1 b0:2 b1:2 b1:1 b0:3 e1 r0:a",
			"- | - | abort1(subsumed) snap2 | - | - | abort3(end-of-stream) | a"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := runGate(t, tc.mode, tc.channels, tc.script)
			for i := range got {
				if got[i] == "" {
					got[i] = "-"
				}
			}
			assert.Equal(t, tc.want, strings.Join(got, " | "), "script %q", tc.script)
		})
	}
}

func TestGateAlignmentTime(t *testing.T) {
	g, err := NewGate[int](GateConfig{Channels: 2})
	require.NoError(t, err)
	t0 := time.Unix(0, 0)
	assert.Empty(t, step(t, g, Input[int]{Kind: InBarrier, Channel: 0, ID: 1, Now: t0}))
	assert.Empty(t, step(t, g, Input[int]{Kind: InRecord, Channel: 0, Record: 5}))
	assert.True(t, g.Blocked(0))
	assert.True(t, g.Retains(0))
	assert.False(t, g.Retains(1))
	assert.Equal(t, 1, g.Buffered())
	id, pending := g.Pending()
	assert.True(t, pending)
	assert.Equal(t, ID(1), id)
	outs := step(t, g, Input[int]{Kind: InBarrier, Channel: 1, ID: 1, Now: t0.Add(7 * time.Millisecond)})
	assert.Equal(t, []Output[int]{
		{Kind: OutSnapshot, ID: 1, Alignment: 7 * time.Millisecond},
		{Kind: OutRecord, Channel: 0, Record: 5},
	}, outs)
	assert.Zero(t, g.Buffered())
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

// TestGateAlignedNeverReorders checks C5 on random interleavings: in Aligned
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
