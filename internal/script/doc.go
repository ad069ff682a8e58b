// Package script runs script-style tests (after cockroachdb's datadriven,
// as etcd-io/raft uses it): a test is a text file of commands, each with its
// expected output, so that a new case is a text edit and a changed behaviour
// shows as a diff of testdata.
//
// # File format
//
// A file is a sequence of cases separated by blank lines. Lines starting
// with # (outside an expected output) are comments:
//
//	# A comment.
//	add key=a t=5 vals=(1,2)
//	optional input line
//	another input line
//	----
//	expected output
//	more expected output
//
//	advance wm=10
//	----
//	fired [0,10) a=3
//
// The first line of a case is the command: its name, then arguments, each
// `key`, `key=val` or `key=(a,b,c)` (a list; spaces are allowed inside the
// parentheses). Input lines, if any, follow up to the `----` line; the
// expected output runs from there to the next blank line or the end of the
// file. An output that contains blank lines is written between two double
// separators:
//
//	cmd
//	----
//	----
//	first paragraph
//
//	second paragraph
//	----
//	----
//
// # Usage
//
//	func TestWindow(t *testing.T) {
//		script.Walk(t, "testdata/operator", func(t *testing.T, c *script.Cmd) string {
//			switch c.Name {
//			case "add":
//				...
//				return out.String()
//			default:
//				t.Fatalf("%s: unknown command %q", c.Pos, c.Name)
//				return ""
//			}
//		})
//	}
//
// The caller's duties:
//
//  1. Keep state across the cases of one file in the closure (or build it
//     per file in Walk's callback); cases run in order, each once.
//  2. Return the whole output of a case; the harness adds a final newline if
//     it is missing and compares the text exactly.
//  3. Report a bad command with c.Pos ("file:line") in the message.
//
// A mismatch is reported with t.Errorf at the file and line of the command,
// with the output got and wanted; the remaining cases still run.
//
// # Regenerating expected output
//
// `go test ./pkg -run TestX -update` rewrites each file it runs with the
// actual output (the stdlib go/doc and datadriven idiom), keeping commands,
// input, comments and spacing; review the diff like code. The flag is a
// package-level `var update = flag.Bool("update", ...)`: the standard idiom
// for a test helper, and the one global in the package (flags must be
// registered before testing parses the command line, so it cannot be made
// inside a function). A test binary that imports script must therefore not
// define its own -update flag.
//
// The package imports only the standard library and testing; it is for
// tests and must not be imported by non-test code.
package script
