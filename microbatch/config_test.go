package microbatch

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConfigRefusesHangsAndOverflow: a block interval above the batch
// interval (the default's included) would leave batches waiting for
// blocks, and a parallelism in the millions only exhausts memory; Validate
// refuses both, naming the fields.
func TestConfigRefusesHangsAndOverflow(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		field string // "" means valid
		want  []string
	}{
		{"receiver defaults", Config{Receiver: true}, "", nil},
		{"block equals batch", Config{Receiver: true, BlockInterval: time.Second}, "", nil},
		{"hour blocks, default batches", Config{Receiver: true, BlockInterval: time.Hour}, "BlockInterval",
			[]string{"block interval 1h0m0s (BlockInterval)", "batch interval 1s (BatchInterval, the default)"}},
		{"hour blocks, direct", Config{BlockInterval: time.Hour}, "BlockInterval", []string{"BatchInterval"}},
		{"default blocks, short batches", Config{Receiver: true, BatchInterval: 100 * time.Millisecond}, "BlockInterval",
			[]string{"(BlockInterval, the default)", "100ms (BatchInterval)"}},
		{"short blocks, short batches", Config{Receiver: true, BatchInterval: 100 * time.Millisecond, BlockInterval: 50 * time.Millisecond}, "", nil},
		{"direct, short batches", Config{BatchInterval: 100 * time.Millisecond}, "", nil},
		{"most tasks", Config{Parallelism: MaxParallelism}, "", nil},
		{"a million tasks", Config{Parallelism: 1_000_000}, "Parallelism", []string{"use 1 to 1024"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.field == "" {
				assert.NoError(t, err, "Validate(%+v)", tc.cfg)
				return
			}
			var ce *ConfigError
			require.True(t, errors.As(err, &ce), "Validate(%+v) = %v, want a *ConfigError", tc.cfg, err)
			assert.Equal(t, tc.field, ce.Field)
			for _, w := range tc.want {
				assert.ErrorContains(t, err, w)
			}
			assert.NotContains(t, err.Error(), "--", "names fields, not flags")
		})
	}
}
