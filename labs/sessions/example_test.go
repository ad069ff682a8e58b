package sessions_test

import (
	"fmt"
	"time"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/labs/sessions"
)

// Two events 4 ms apart share a 10 ms session, which fires once the
// watermark reaches its end.
func ExampleSessions() {
	s, err := sessions.NewSessions(10 * time.Millisecond)
	if err != nil {
		fmt.Println(err)
		return
	}
	s.Add("ann", 100)
	s.Add("ann", 104)
	print := func(r dataflow.Result) { fmt.Println(r.Window, r.Key, r.Value, r.Extra[0]) }
	s.Advance(113, print) // not yet: the session ends at 114
	s.Advance(114, print)
	fmt.Println(s.Add("ann", 110)) // behind the watermark: late
	// Output:
	// [100, 114) ann 2 4
	// false
}
