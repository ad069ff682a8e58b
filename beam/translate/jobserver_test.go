package translate_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/beam/translate"
	"github.com/weirlab/weir/compare"
)

// TestJobServerUniversal starts a standalone Prism job server on a free
// port and submits a job to it on 127.0.0.1 with the universal runner and
// the LOOPBACK environment: the submission path of a Flink job server.
func TestJobServerUniversal(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())

	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	// The server stops itself once idle; its goroutine is Prism's.
	_, err = prism.CreateJobServer(ctx, prism.Options{Port: port, IdleShutdownTimeout: time.Minute, CancelFn: cancel})
	require.NoError(t, err)

	w := workload(t, "ysb")
	r := &translate.Runner{Beam: "universal", Endpoint: fmt.Sprintf("127.0.0.1:%d", port), EnvironmentType: "LOOPBACK", SessionsMergeTouching: true}
	rep, err := translate.RunWorkload(ctx, w, compare.DataSpec{Events: 20_000, Seed: 3}, r, compare.Options{}, nil)
	require.NoError(t, err)
	require.Equal(t, "beam/universal", rep.Runner)
	require.True(t, rep.Check.OK(), "ysb through the job server: %v %v", rep.Check, rep.Check.Examples)
	require.NotZero(t, rep.Check.Windows)
}
