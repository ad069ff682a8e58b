// Package labs is weir's graded exercises, in the style of Flink's
// training exercises: each sub-package is one lab with a README.md (the
// task, the lecture's claim, hints, and the discussion of the worked
// solution), a skeleton the student fills in (exercise.go), the worked
// solution (solution.go) and tests that grade either against the exact
// answer of [dataflow.Reference] on built-in data.
//
//	cleansing     lab 1: a stateless filter and enrichment, record at a time
//	sessions      lab 2: per-user session windows fired by the watermark
//	sketches      lab 3: mergeable accumulators (HyperLogLog, mean and variance)
//	exactlyonce   lab 4: an idempotent and a two-phase-commit sink
//	trending      lab 5: the top hashtags per prefix per hour, in fixed windows
//
// # Grading
//
// The skeleton and the solution of a lab are one package in two files with
// the same names, chosen by a build tag: solution.go has //go:build
// !student, exercise.go has //go:build student. So
//
//	go test ./labs/...                        # the solutions: green
//	go test -tags student ./labs/sessions/    # your code for lab 2
//
// The tests never name the file they grade. This package's own test
// (TestSkeletonsFail, built without the tag) runs every lab's tests with
// -tags student on the committed skeletons and fails unless each graded
// test fails there (and each TestHarness test, which checks only the lab's
// fixtures, passes), and checks that exercise.go and solution.go declare
// the same exported API. A skeleton that would pass its tests would grade
// nothing.
//
// The package has no code of its own; its test needs the go command
// (found through GOROOT or PATH).
//
// [dataflow.Reference]: https://pkg.go.dev/github.com/weirlab/weir/dataflow#Reference
package labs
