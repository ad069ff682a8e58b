// Package dataflow is weir's shared logical model of a streaming workload:
// the pipeline a workload is written as once, its windows, time domains,
// watermarks, triggers and aggregates, and [Reference], the exact evaluator
// of a pipeline on bounded input that every runtime is checked against.
//
// dataflow imports only the standard library, its own binary encoding
// (package wire, which does too) and internal/invariants (the debug-only
// assertions, themselves standard-library-only: with -tags invariants the
// tracker and the operator check their state after every call, see
// operator_invariants.go). It starts no goroutines, does
// no I/O and reads no clock: time comes in as arguments (event time from the
// records, processing time from the records' ingest times or from the caller).
// Its state machines ([WatermarkTracker], [WindowOperator], [JoinOperator],
// [RegroupOperator]) are single-goroutine cores that the runtimes wrap.
//
// # Writing a workload
//
//	p := dataflow.NewPipeline("ysb", events).
//		Filter(dataflow.Eq(dataflow.Col("event_type"), dataflow.LitStr("view"))).
//		Lookup(campaigns, "ad_id", "ad_id", "campaign_id").
//		Aggregate(dataflow.Aggregation{
//			Key:     []string{"campaign_id"},
//			Window:  dataflow.FixedWindows(10 * time.Second),
//			TimeCol: "event_time",
//			Aggs:    []dataflow.Agg{dataflow.Count()},
//		})
//	if err := p.Validate(); err != nil { ... }
//
// Expressions ([Expr]) and steps ([Step]) are plain data, so each runtime
// compiles them its own way: rows and closures ([Compile]) or column kernels.
//
// # Joins and regroups
//
// A pipeline may join two streams selected from the same log
// (Pipeline.Join, [Join]; Nexmark's q3, q4 and q8): after the shared Steps
// each record is offered to both sides, each side's Steps select and shape
// its rows, and a left and a right row with the same key text join. A
// windowed join (fixed or sliding) pairs the rows of each window both
// share, once per shared window, and adds window_start, window_end and
// join_time = window_end - 1 ms; an incremental join (no window) pairs
// every matching row for ever, join_time the later event time. Joined rows
// go through Join.Steps, then the pipeline's Agg (windowed joins only,
// windowing on join_time) or Emit.
//
//	p := dataflow.NewPipeline("q4", nexmark)
//	p.Join = &dataflow.Join{
//		Left:   dataflow.JoinSide{Name: "auction", Steps: auctions, Key: []string{"id"}, Cols: ..., TimeCol: "date_time"},
//		Right:  dataflow.JoinSide{Name: "bid", Steps: bids, Key: []string{"auction"}, Cols: ..., TimeCol: "date_time"},
//		Window: dataflow.FixedWindows(10 * time.Second),
//	}
//	p.Agg = &dataflow.Aggregation{Key: []string{"id", "category"}, Window: dataflow.FixedWindows(10 * time.Second),
//		TimeCol: "join_time", Aggs: []dataflow.Agg{dataflow.Max("price").Named("final")}}
//	p.Then = &dataflow.Regroup{Key: []string{"category"}, Aggs: []dataflow.Agg{dataflow.Mean("final")}}
//
// Pipeline.Then ([Regroup]) aggregates the first aggregation's results
// again within each window: the results as rows of
// [Aggregation.ResultSchema] (key columns, then each aggregate by name),
// grouped by Regroup.Key. [MaxBy] (Nexmark q7's highest bid and its
// bidder) is the two-input aggregate both stages may use: its accumulators
// are [PairAccumulator]s, fed each row's Col and By values.
//
// [Reference] answers joined and regrouped pipelines exactly; with a join,
// [ReferenceOptions.ExcludeWindows] names side rows (key = the join key
// text; [ReferenceOptions.ExcludeSide] names the side too, for records that
// reach both sides) and [JoinInput] lists them, as [AggregationInput] lists an
// aggregation's rows. A runtime builds the operators as follows:
//
//  1. derive each side's watermark from its rows (a [WatermarkTracker] per
//     side with Join.Watermark) and give the [JoinOperator] their minimum;
//  2. feed each side row to [JoinOperator.Add] with its side; apply
//     Join.Steps to each emitted row and pass it to the aggregation or
//     emit, before forwarding the watermark that fired it (so no joined row
//     is late downstream);
//  3. with Pipeline.Then, build the [WindowOperator] with
//     [OperatorConfig.KeyRow], turn each on-time pane into a row with
//     [AppendResultRow] and feed it to [RegroupOperator.AddRowAt], again
//     before forwarding the watermark to the regroup;
//  4. check: the operators' output equals Reference minus the rows they
//     reported late (J5, R4).
//
// # Tokens and top-N
//
// [ExplodeStep] emits one record per matching token, repeats included: the
// tweet "#a #b #a" exploded with Explode("text", "#", "hashtag") gives three
// records (#a, #b, #a), so a hashtag repeated in one tweet counts once per
// occurrence in any later aggregate. Tokens are split on ASCII white space
// only and keep any punctuation ("#go," is its own tag). [AppendTokens] is
// that tokenizer; every evaluator (Reference, microbatch's kernels) uses it,
// so they cannot disagree on what a token is.
//
// [TopN] renders its result as "value=count,value=count,..." (no spaces,
// values not escaped), at most N entries by count descending, ties by value
// ascending in [Value.Compare] order (byte order for strings, NaN before
// every other float); [ApproxTopN] has the same format and order with
// Count-Min estimates for counts.
//
// # Invariants
//
// I1-I3 and I6-I9 hold in every package of weir; code and tests in any
// package cite them by name alone. I4 and I5 are the watermark and late rule of this package's
// [WindowOperator] and of recordstream, which wraps it. microbatch's
// Structured-Streaming mode follows Spark's rule instead (microbatch's ME1
// and ME2: a global maximum, and a row dropped only from its windows that
// end at or before the watermark). The check in compare verifies each
// drop under the rule of the model that made it (compare's CM2).
//
//   - I1 Windows are half-open, [Start, End), in milliseconds since the Unix
//     epoch ([Time]).
//   - I2 Fixed and sliding windows are aligned to the epoch plus offset:
//     they start at Offset + k*Period for integer k, computed with a floor
//     modulo ([FloorMod], [FloorDiv]) so negative timestamps land in the
//     right window. A time t lies
//     in every window [s, s+Size) with s <= t < s+Size ([WindowFn.Assign]).
//   - I3 An event at time t opens the session [t, t+Gap). Two sessions of a
//     key merge only when they overlap; touching sessions do not, so an event
//     exactly Gap after the last one starts a new session (Beam's rule,
//     [MergeSession]; [MergeSessions] for a list). Reference, the
//     WindowOperator and microbatch all merge by MergeSession.
//   - I4 A watermark W means no more records with event time < W are
//     expected. A window [s, e) is complete, and fires on time, when W >= e.
//     A partition's watermark is the largest event time it has delivered minus
//     the bound of out-of-orderness; the input's watermark is the minimum over
//     its partitions that are not idle, and it never decreases.
//   - I5 With allowed lateness L, a window's state is kept until W >= e + L;
//     a record is late for a window once W >= e + L. A record late for any
//     of its windows is dropped from all of them and counted, or sent to the
//     late output (Beam and Flink drop it per window; weir drops it whole so
//     that excluding the reported records from the reference gives the
//     runtime's exact answer). A session record is late once W > t + L
//     (Flink's element-late rule), so a late record can never open a
//     session the reference would have merged. A session that fired panes
//     may still grow by merging until its state is dropped; a runtime then
//     moves what its sink kept for the outgrown session to the merged one
//     ([PaneMerged]).
//   - I6 Count windows are per key, over the key's elements in arrival order
//     (the order of the log; the count-window workload's log is partitioned
//     by the key, so every reader sees the same order). Their bounds are
//     element ordinals: [k*slide, k*slide+size). A count window fires when it
//     holds size elements; a partial window at the end of a bounded input is
//     not emitted (as Flink's CountTrigger).
//   - I7 Processing time is the record's ingest time in the log, in ms
//     ([Record.ProcessingTime]), so processing-time windows are reproducible
//     from the log and the same on every runtime.
//   - I8 The reference answer is the batch answer: every record (minus those
//     the caller excludes, such as records a runtime reports it dropped as
//     late) in every window it belongs to, each window's final value once.
//     Count windows follow I6; global and unwindowed aggregations give one
//     value per key over the whole input.
//   - I9 Keys are rendered as the text of the key columns joined by
//     [KeySep] ([AppendKey]); results sort by window start, then key
//     ([CompareResults]).
//
// The state machines' own invariants (watermark.go and
// operator_invariants.go explain them; with -tags invariants they are
// asserted after every call, and a failure names the id):
//
//   - DW1 [WatermarkTracker.Current] never decreases, whatever the inputs do.
//   - DO1 The operator's timers are a min-heap by deadline (windows due
//     together are sorted when they fire; a session that grew keeps its
//     earlier deadline until it comes up); count windows are never timers.
//   - DO2 Every window is held exactly once (the fixed and sliding map, its
//     key's sessions or its key's count windows), and the open counts add up.
//   - DO3 A key's sessions are sorted and pairwise disjoint (I3).
//   - DO4 A key's cache of recent windows and the EarlyEvery dirty list hold
//     only live windows, each once.
//   - DO5 A window not yet fired is not past its on-time moment (I4); no
//     window past its allowed lateness is held or made (I5); count windows
//     are never full (I6).
//   - DO6 The operator's watermark never decreases (DW1), except by Restore.
//
// The join and regroup operators' rules (join_operator.go and
// regroup_operator.go state them in full):
//
//   - J1 A windowed join emits a window's pairs when W >= end.
//   - J2 A row accepted after that (W < end + AllowedLateness) joins the
//     other side's kept rows of the window at once.
//   - J3 A window's rows are dropped when W >= end + AllowedLateness.
//   - J4 A side row late for one of its windows (I5) is dropped whole and
//     counted, on either side.
//   - J5 The emitted rows are Reference minus the late side rows.
//   - J6 An incremental join emits each pair once, when its later row
//     arrives; nothing is late.
//   - R1 A regroup fires a window once, when W >= end, one result per key,
//     and R2 then forgets the window.
//   - R3 A first-stage row for a fired window is late.
//   - R4 Fed each first-stage on-time result before the watermark that
//     fired it, a regroup gives Reference's answer.
package dataflow
