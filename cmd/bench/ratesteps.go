package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/weirlab/weir/datasets"
)

// rateSteps is the value of --rate-steps: AFTER=RATE pairs, comma
// separated, in increasing AFTER (a Go duration since the fill started)
// with RATE in events per second above 0.
type rateSteps []datasets.RateStep

func (s *rateSteps) String() string {
	var parts []string
	for _, st := range *s {
		parts = append(parts, fmt.Sprintf("%v=%g", st.After, st.Rate))
	}
	return strings.Join(parts, ",")
}

func (s *rateSteps) Set(v string) error {
	var out rateSteps
	for part := range strings.SplitSeq(v, ",") {
		after, rate, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return fmt.Errorf("want AFTER=RATE (e.g. 5s=20000), got %q", part)
		}
		d, err := time.ParseDuration(after)
		if err != nil || d < 0 {
			return fmt.Errorf("want a duration of 0 or more before '=' (e.g. 5s), got %q", after)
		}
		r, err := strconv.ParseFloat(rate, 64)
		if err != nil || !datasets.PacedRateInRange(r) {
			return fmt.Errorf("want a rate in events per second between %.3g and %.0e after '=', got %q", datasets.MinPacedRate, datasets.MaxPacedRate, rate)
		}
		if n := len(out); n > 0 && d <= out[n-1].After {
			return fmt.Errorf("steps must come in increasing time: %v after %v", d, out[n-1].After)
		}
		out = append(out, datasets.RateStep{After: d, Rate: r})
	}
	*s = out
	return nil
}
