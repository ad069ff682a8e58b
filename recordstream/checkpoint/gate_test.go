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
	var outs []string
	g, err := NewGate(GateConfig{Mode: mode, Channels: channels}, func(o Output[string]) {
		outs = append(outs, formatOutput(o))
	})
	require.NoError(t, err)
	var got []string
	t0 := time.Unix(0, 0)
	for i, st := range strings.Fields(script) {
		outs = outs[:0]
		now := t0.Add(time.Duration(i) * time.Millisecond)
		ch, arg, _ := strings.Cut(st[1:], ":")
		c, _ := strconv.Atoi(ch)
		switch st[0] {
		case 'r':
			require.NoError(t, g.Record(c, arg))
		case 'b':
			id, _ := strconv.Atoi(arg)
			require.NoError(t, g.Barrier(c, ID(id), now))
		case 'e':
			require.NoError(t, g.EndOfStream(c))
		case 'x':
			g.Cancel(ID(c))
		}
		got = append(got, strings.Join(outs, " "))
	}
	return got
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
	var align []time.Duration
	g, err := NewGate(GateConfig{Channels: 2}, func(o Output[int]) {
		if o.Kind == OutSnapshot {
			align = append(align, o.Alignment)
		}
	})
	require.NoError(t, err)
	t0 := time.Unix(0, 0)
	require.NoError(t, g.Barrier(0, 1, t0))
	require.NoError(t, g.Record(0, 5))
	assert.True(t, g.Blocked(0))
	assert.Equal(t, 1, g.Buffered())
	id, pending := g.Pending()
	assert.True(t, pending)
	assert.Equal(t, ID(1), id)
	require.NoError(t, g.Barrier(1, 1, t0.Add(7*time.Millisecond)))
	assert.Equal(t, []time.Duration{7 * time.Millisecond}, align)
	assert.Zero(t, g.Buffered())
}

func TestGateErrors(t *testing.T) {
	_, err := NewGate(GateConfig{}, func(Output[int]) {})
	assert.ErrorContains(t, err, "at least one input channel")
	_, err = NewGate[int](GateConfig{Channels: 1}, nil)
	assert.Error(t, err)
	g, err := NewGate(GateConfig{Channels: 1}, func(Output[int]) {})
	require.NoError(t, err)
	assert.ErrorContains(t, g.Record(1, 0), "out of range")
	require.NoError(t, g.EndOfStream(0))
	assert.ErrorIs(t, g.Record(0, 0), ErrEnded)
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
		g, err := NewGate(GateConfig{Channels: channels}, func(o Output[int]) {
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
		})
		require.NoError(t, err)
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
			if m.barrier != 0 {
				require.NoError(t, g.Barrier(c, m.barrier, time.Time{}))
			} else {
				require.NoError(t, g.Record(c, m.rec))
			}
		}
		assert.Equal(t, ID(barriers-1), epoch, "seed %d", seed)
		for c := range channels {
			assert.Equal(t, perChannel, next[c], "seed %d: records of channel %d", seed, c)
		}
	}
}

func TestGateRecordAllocs(t *testing.T) {
	g, err := NewGate(GateConfig{Channels: 4}, func(Output[int]) {})
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(1000, func() { _ = g.Record(2, 7) })
	assert.Zero(t, allocs, "Gate.Record on an unblocked channel")
}

func BenchmarkGateRecord(b *testing.B) {
	var n int
	g, err := NewGate(GateConfig{Channels: 4}, func(o Output[int]) { n += o.Record })
	require.NoError(b, err)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = g.Record(i&3, 1)
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
		g, err := NewGate(GateConfig{Mode: Mode(mode % 3), Channels: channels}, func(o Output[rec]) {
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
		})
		require.NoError(t, err)
		now := time.Unix(0, 0)
		for _, op := range ops {
			ch := int(op&0x3f) % channels
			switch op >> 6 {
			case 0, 1:
				require.NoError(t, g.Record(ch, rec{ch, sent[ch]}))
				sent[ch]++
			case 2:
				require.NoError(t, g.Barrier(ch, ID(op&0x0f)+1, now))
			case 3:
				g.Cancel(ID(op&0x0f) + 1)
			}
		}
		for ch := range channels {
			require.NoError(t, g.EndOfStream(ch))
		}
		assert.Equal(t, sent, next, "records emitted per channel")
		assert.Equal(t, 1, ends, "end emitted once")
		assert.Zero(t, g.Buffered(), "records left in the gate")
	})
}
