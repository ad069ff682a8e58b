// Package compare is weir's harness: the named workloads of the lecture
// (each one pipeline over one dataset), the runners that put a workload on a
// runtime, the check of every run against the exact reference answer, and
// the run summary the CLI writes.
//
// # Using it
//
//	w, err := compare.LookupWorkload("ysb")
//	r, err := compare.NewRunner("reference", compare.RuntimeFlags{})
//	rep, err := compare.RunOne(ctx, w, r, compare.DataSpec{Events: 100_000, Seed: 1}, compare.Options{}, nil)
//	if !rep.Check.OK() { ... } // the run's results differ from the reference
//
// # Invariants
//
// What compare owns and must not do:
//
//   - CM1 A failed check is never hidden: [CheckResult] counts every lost,
//     duplicated and mismatched window, [CheckResult.OK] is false when any
//     is non-zero, and the CLI exits non-zero on it.
//   - CM2 Late drops are verified, never taken on a runtime's word: a runtime
//     reports every record it dropped as late ([Outcome.Late]) with the
//     watermark the drop saw, and declares its model's documented rule
//     ([LateRule]). [VerifyLate] recomputes from the log the highest
//     watermark that rule's policy could have produced from what had been
//     delivered before the record, and whether the record was late at the
//     reported watermark. Only verified drops are excluded from the
//     reference, from exactly the windows the rule drops them from; an
//     unverified drop makes the run not match. A pipeline without a
//     watermark (count or processing-time windows, stateless) can never
//     drop a record. Each run reports separately: equal to the full answer
//     or not ([CheckResult.Full]); verified drops, replays lost to
//     lateness, unverified drops; equal after the verified exclusions
//     ("matches", [CheckResult.OK]).
//   - CM3 Runners are built by [NewRunner] from a map made in a function (no
//     init registration, no global mutable state).
//   - CM4 compare holds logic a library user would need (building the log,
//     running, checking, summarising); cmd/bench only parses flags and
//     prints.
//   - CM5 Errors name the fields the caller set, never the command line's
//     flags: a bad value is a *[FieldError] whose Field is the field's name
//     by its type ("DataSpec.Events", "RuntimeFlags.MaxSpoutPending"), and
//     cmd/bench maps it to the flag behind it. internal/lint fails on a flag
//     ("--name") in an error message of a library package.
//   - CM6 A verdict is computed, never typed: each experiment hands a typed
//     outcome, its figures keyed by trial label, to a pure verdict function
//     (in the experiment's file, exp_*.go) that returns [Holds], [DoesNotHold] or [Inconclusive]
//     with an explanation built only from those figures. A trial that failed
//     or hung, fewer than three repetitions of a figure the rule reads, or an
//     effect inside the range of repetitions gives [Inconclusive].
//
// # Experiments
//
// [Experiments] lists the suite's reproductions of the lecture's claims
// ([LectureClaims] lists every claim, with the reason when none measures it
// yet). [RunExperiments] runs them; [WriteSuiteResults] and [WriteReport]
// turn the results into CSV tables and the Markdown report. Every figure a
// verdict reads comes from 3 repetitions in quick mode and 5 in full mode;
// tables show median [min-max].
//
// # Nexmark
//
// The Nexmark queries (nexmark-q0 ... nexmark-q12, nexmark_workloads.go)
// are workloads like the others, on the nexmark dataset at
// [NexmarkEventRate]: `bench check` checks them on every configuration,
// and a configuration that cannot express one refuses it with its
// model's reason. [RunNexmark] measures them per configuration in the
// nexmark/nexmark report's shape (events/s, cores from the process CPU
// time, events/s per core, paced latency, the check, the published Flink
// and RisingWave per-core figures beside ours); [WriteNexmark] writes the
// rows for [WriteReport]. The lecture suite, the superset experiment and
// torture run [LectureWorkloads], the workloads without the queries.
//
// # Architectures
//
// [NewArchitecture] composes the runners into the Lambda or Kappa
// architecture (arch.go, arch_lambda.go, arch_kappa.go; models.md §4):
//
//	a, err := compare.NewArchitecture(compare.ArchConfig{Architecture: "lambda", BatchPeriod: 250 * time.Millisecond})
//	rep, err := a.Run(ctx, w, compare.DataSpec{Events: 40_000, Rate: 20_000, Seed: 1}, compare.Options{CrashAfter: []int64{5000}}, nil)
//	rep.Served // the served answer's distance from the exact one over the run
//
// Lambda's serving layer is the pure [ServeMerge] (batch view up to its
// cut-off, speed view after) and its distance the pure [ServedDistance].
// The batch layer runs its runner on a closed copy of the log's prefix;
// Kappa's jobs read the shared log through views that note their position
// and stop job 1 at the switch. Every served table is checked against the
// reference like a runtime's output. The caller's duties:
//
//  1. pace the data (DataSpec.Rate > 0): the layers run while the log fills;
//  2. give Kappa a change (ArchConfig.Change) its pipeline can take;
//  3. cancel ctx to stop: Run returns once every goroutine it started has.
//
// # The reference runner
//
// The "reference" runtime runs [dataflow.Reference] over the whole log: the
// batch answer. Its throughput is measured (events over the time Reference
// took); its latency is not meaningful, since it emits everything at the
// end, so its latency histograms are empty and summaries report zeros.
//
// compare starts goroutines only to fill a paced log ([RunOne] with a rate,
// [Architecture.Run]), to run an architecture's layers or jobs side by side,
// and to run the snapshot-overhead experiment's paced trials side by side,
// and waits for them before it returns.
package compare
