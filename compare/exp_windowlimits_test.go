package compare

import "testing"

func TestVerdictWindows(t *testing.T) {
	const ds = "microbatch/dstream 2s"
	o := func(sessions runEnd, aligned runEnd) windowsOutcome {
		return windowsOutcome{DStream: ds, Cells: map[string]map[string]runEnd{
			windowsSessions: {ds: sessions},
			windowsCount:    {ds: {Unsupported: "DStreams have no count windows"}},
			windowsPT7:      {ds: {Unsupported: "7s is not a multiple of 2s"}},
			windowsAligned:  {ds: aligned},
		}}
	}
	refused := runEnd{Unsupported: "DStreams have no session windows"}
	exact := runEnd{Exact: true, Check: "yes (10/10 windows)"}
	runVerdictCases(t, []verdictCase{
		{"holds", func() Verdict { return verdictWindows(o(refused, exact)) }, Holds, []string{`"DStreams have no session windows"`, `"7s is not a multiple of 2s"`, "yes (10/10 windows)"}},
		{"does not hold: sessions run", func() Verdict {
			return verdictWindows(o(runEnd{Exact: true, Check: "yes (4/4 windows)"}, exact))
		}, DoesNotHold, []string{windowsSessions + " (yes (4/4 windows))"}},
		{"inconclusive: the aligned control failed", func() Verdict {
			return verdictWindows(o(refused, runEnd{Failed: "error: boom"}))
		}, Inconclusive, []string{"error: boom"}},
	})
}
