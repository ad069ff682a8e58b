package translate_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/beam/translate"
	"github.com/weirlab/weir/dataflow"
)

func TestRefuse(t *testing.T) {
	base := func(t *testing.T, name string) *dataflow.Pipeline {
		p, err := workload(t, name).Pipeline(nil)
		require.NoError(t, err)
		return p
	}
	for _, tc := range []struct {
		name   string
		change func(a *dataflow.Aggregation)
		src    translate.Source
		opts   translate.Options
		reason string
	}{
		{name: "late side output", change: func(a *dataflow.Aggregation) { a.Late = dataflow.LateSideOutput }, reason: "late-record side output"},
		{name: "early panes", change: func(a *dataflow.Aggregation) { a.Trigger.EarlyEvery = time.Second }, reason: "processing-time early panes"},
		{name: "offset", change: func(a *dataflow.Aggregation) { a.Window = dataflow.FixedWindows(time.Minute).WithOffset(time.Second) }, reason: "no offset"},
		{name: "idle timeout", change: func(a *dataflow.Aggregation) { a.Watermark.IdleTimeout = time.Second }, reason: "idle"},
		{name: "processing time over a folder", change: func(a *dataflow.Aggregation) { a.Domain = dataflow.ProcessingTime },
			src: translate.Source{Log: translate.LogSpec{InputDir: "/data"}}, reason: "loader's clock"},
		{name: "prism sessions with count trigger", change: func(a *dataflow.Aggregation) {
			a.Window, a.Trigger.AfterCount = dataflow.SessionWindows(time.Second), 10
		}, opts: translate.Options{Runner: "prism"}, reason: "Prism v2.77.0 rejects"},
		{name: "I5 across sliding windows", change: func(a *dataflow.Aggregation) {},
			opts: translate.Options{LogWatermark: true}, reason: "per window"},
		{name: "sessions under the log watermark", change: func(a *dataflow.Aggregation) { a.Window = dataflow.SessionWindows(time.Second) },
			opts: translate.Options{LogWatermark: true}, reason: "proto-session"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := base(t, "iot-sliding")
			tc.change(p.Agg)
			require.NoError(t, p.Validate())
			err := translate.Refuse(p, tc.src, tc.opts)
			var u *dataflow.UnsupportedError
			require.True(t, errors.As(err, &u), "Refuse(%s) = %v, want an UnsupportedError", tc.name, err)
			assert.Equal(t, translate.Model, u.Model)
			assert.Contains(t, u.Reason, tc.reason)
		})
	}
	// The Nexmark queries with a join, a regroup or a max-by are refused
	// with the reason, not translated without them.
	for name, reason := range map[string]string{
		"nexmark-q3": "stream join", "nexmark-q4": "stream join", "nexmark-q8": "stream join", "nexmark-q7": "max_by",
	} {
		err := translate.Refuse(base(t, name), translate.Source{}, translate.Options{Runner: "prism"})
		var u *dataflow.UnsupportedError
		require.True(t, errors.As(err, &u), "Refuse(%s) = %v, want an UnsupportedError", name, err)
		assert.Contains(t, u.Reason, reason, name)
	}
	// What Beam expresses is not refused.
	require.NoError(t, translate.Refuse(base(t, "iot-sliding"), translate.Source{}, translate.Options{Runner: "prism"}))
}
