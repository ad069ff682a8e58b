package recordstream

import (
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConfigRefusesHangsAndOverflow: values that would replay forever
// (every ack lost, or NaN taken as none) or start a topology too large for
// memory are refused by Validate, naming the field and the range.
func TestConfigRefusesHangsAndOverflow(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		field string // "" means valid
		want  string
	}{
		{"most acks lost", Config{Faults: Faults{DropAcks: 0.99}}, "", ""},
		{"every ack lost", Config{Faults: Faults{DropAcks: 1}}, "Faults.DropAcks", "[0, 1)"},
		{"NaN acks lost", Config{Faults: Faults{DropAcks: math.NaN()}}, "Faults.DropAcks", "got NaN"},
		{"Inf acks lost", Config{Faults: Faults{DropAcks: math.Inf(1)}}, "Faults.DropAcks", "[0, 1)"},
		{"most tasks", Config{Parallelism: MaxParallelism, Ackers: MaxParallelism}, "", ""},
		{"a million tasks", Config{Parallelism: 1_000_000}, "Parallelism", "use 1 to 1024"},
		{"a million ackers", Config{Guarantee: AtLeastOnce, Ackers: 1_000_000}, "Ackers", "use 1 to 1024"},
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
			assert.ErrorContains(t, err, tc.want)
			assert.NotContains(t, err.Error(), "--", "names a field, not a flag")
		})
	}
}
