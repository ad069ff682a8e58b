package compare

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/weirlab/weir/internal/snapshot"
)

// SuiteResults is everything `bench suite` measured, as DIR/results.json
// holds it.
type SuiteResults struct {
	// Command is the command line that produced the results.
	Command    string `json:"command"`
	Date       string `json:"date"`
	GoVersion  string `json:"go_version"`
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	Cores      int    `json:"cores"`
	// CPU is the processor's model name (from /proc/cpuinfo where there is
	// one); Commit the source revision the suite ran (set by the caller,
	// which knows where the source is; empty if unknown).
	CPU    string `json:"cpu,omitempty"`
	Commit string `json:"commit,omitempty"`
	Quick  bool   `json:"quick"`
	// Seconds is the suite's wall time.
	Seconds     float64             `json:"seconds"`
	Experiments []*ExperimentResult `json:"experiments"`
}

// CPUModel returns the processor's model name from /proc/cpuinfo, or ""
// where there is none.
func CPUModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// ResultsFile is the name of the results file in a suite directory.
const ResultsFile = "results.json"

// WriteSuiteResults writes r into dir: results.json, <experiment>.csv for
// each table and <experiment>-<series>.csv for each series (columns line,
// x, y); and the tidy files: trials.csv and trials.parquet (one row per
// trial run, [TrialRecord]), samples.csv and samples.parquet (one row per
// figure point, [SampleRecord]) and machine.csv (the machine, also in each
// Parquet file's key-value metadata).
func WriteSuiteResults(dir string, r *SuiteResults) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("compare: encode results: %w", err)
	}
	// Every file is written atomically (a temporary file renamed into
	// place): a reader never sees half a result. Mode 0644, as results are
	// for any reader.
	write := func(name string, data []byte) error {
		if err := snapshot.WriteFileAtomicPerm(snapshot.OSFS{}, filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("compare: %w", err)
		}
		return nil
	}
	if err := write(ResultsFile, append(b, '\n')); err != nil {
		return err
	}
	for _, e := range r.Experiments {
		var buf bytes.Buffer
		cw := csv.NewWriter(&buf)
		cw.Write(e.Table.Columns)
		cw.WriteAll(e.Table.Rows) // flushes
		if err := write(e.Name+".csv", buf.Bytes()); err != nil {
			return err
		}
		for _, s := range e.Series {
			buf.Reset()
			cw := csv.NewWriter(&buf)
			cw.Write([]string{"line", "x", "y"})
			for _, l := range s.Lines {
				for _, p := range l.Points {
					cw.Write([]string{l.Label, strconv.FormatFloat(p.T, 'g', -1, 64), strconv.FormatFloat(p.V, 'g', -1, 64)})
				}
			}
			cw.Flush()
			if err := write(e.Name+"-"+s.Name+".csv", buf.Bytes()); err != nil {
				return err
			}
		}
	}
	return writeTidyFiles(r, write)
}

// ReadSuiteResults reads dir/results.json written by [WriteSuiteResults].
func ReadSuiteResults(dir string) (*SuiteResults, error) {
	b, err := os.ReadFile(filepath.Join(dir, ResultsFile))
	if err != nil {
		return nil, fmt.Errorf("compare: no suite results (write them with WriteSuiteResults): %w", err)
	}
	var r SuiteResults
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("compare: %s: %w", filepath.Join(dir, ResultsFile), err)
	}
	return &r, nil
}

// ReportOptions says where the report's figures go.
type ReportOptions struct {
	// FigureDir is where the figures are written, each as SVG and PNG.
	FigureDir string
	// FigureLink is FigureDir as a link relative to the report.
	FigureLink string
	// Generator is the command line quoted at the top of the report.
	Generator string
	// Nexmark, if not empty, is rendered as the report's Nexmark section
	// ([NexmarkTable], `bench nexmark`'s rows); NexmarkCommand is the
	// command that measured them, NexmarkCommit the source commit and
	// NexmarkDate when (both from nexmark.parquet's metadata; the Nexmark
	// run may come from another commit than the suite's).
	Nexmark        []NexmarkRecord
	NexmarkCommand string
	NexmarkCommit  string
	NexmarkDate    string
}

// WriteReport renders r as Markdown to w and writes each series as an SVG
// and a PNG figure into opts.FigureDir ([WriteFigure]; skipped when it is
// empty). The report shows the SVG and links the PNG.
func WriteReport(w io.Writer, r *SuiteResults, opts ReportOptions) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# weir: the lecture's claims, measured\n\n")
	fmt.Fprintf(&b, "Generated by `%s`. Do not edit by hand: rerun the command.\n\n", opts.Generator)
	fmt.Fprintf(&b, "- Suite command: `%s`\n", r.Command)
	fmt.Fprintf(&b, "- Date: %s; suite wall time %.0f s\n", r.Date, r.Seconds)
	fmt.Fprintf(&b, "- Machine: %s/%s, %d cores, GOMAXPROCS %d, %s\n", r.GOOS, r.GOARCH, r.Cores, r.GOMAXPROCS, r.GoVersion)
	if r.CPU != "" {
		fmt.Fprintf(&b, "- CPU: %s\n", r.CPU)
	}
	if r.Commit != "" {
		fmt.Fprintf(&b, "- Commit: %s\n", r.Commit)
	}
	size := "full"
	if r.Quick {
		size = "quick (`--quick`: small inputs, seconds per experiment; figures are indicative, not tuned benchmarks)"
	}
	fmt.Fprintf(&b, "- Size: %s\n\n", size)
	b.WriteString("Every run below is checked against the exact reference answer (`dataflow.Reference`); verdicts are computed from the numbers by the pure verdict functions of `compare/exp_*.go`, one file per experiment (each with its rule below), never typed by hand. Published figures are quoted from `shared/reference/papers.md` with the source it gives; they come from clusters, not from one small machine, so only shapes and ratios compare.\n\n")
	b.WriteString("A verdict is *holds*, *does not hold* or *inconclusive* (a trial failed or hung, too few repetitions ran, or the effect lies inside the spread of repetitions); its explanation is built from the measured figures only. Tables give median [min-max] over repetitions.\n\n")
	b.WriteString("## Summary\n\n| experiment | claim | verdict |\n|---|---|---|\n")
	for _, e := range r.Experiments {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s |\n", e.Name, anchor(e), e.Claim, mdCell(e.Verdict.String()))
	}
	b.WriteString("\n")
	writeCoverage(&b, r.Experiments)
	for _, e := range r.Experiments {
		fmt.Fprintf(&b, "## %s: %s\n\n", e.Claim, e.Name)
		fmt.Fprintf(&b, "**Claim.** %s\n\n", e.Statement)
		writeTable(&b, e.Table)
		for _, s := range e.Series {
			base := e.Name + "-" + s.Name
			if opts.FigureDir != "" {
				if err := WriteFigure(opts.FigureDir, base, s); err != nil {
					return err
				}
			}
			link := filepath.ToSlash(filepath.Join(opts.FigureLink, base))
			fmt.Fprintf(&b, "![%s](%s.%s)\n\n([PNG](%s.%s))\n\n", s.Title, link, FigureSVG, link, FigurePNG)
		}
		for _, n := range e.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
		if len(e.Notes) > 0 {
			b.WriteString("\n")
		}
		if e.Rule != "" {
			fmt.Fprintf(&b, "**Rule.** %s\n\n", e.Rule)
		}
		fmt.Fprintf(&b, "**Verdict.** %s (%.1f s)\n\n", e.Verdict, e.Seconds)
		if p := publishedFor(e.Name); p != "" {
			fmt.Fprintf(&b, "**Published figures.** %s\n\n", p)
		}
	}
	writeNexmarkSection(&b, opts)
	_, err := io.WriteString(w, b.String())
	return err
}

// LectureClaim is one claim of the lecture (shared/LECTURE.md) and, when
// no experiment measures it yet, why.
type LectureClaim struct {
	// ID is the claim's number, e.g. "L5.2".
	ID string
	// Statement is the claim in a few words.
	Statement string
	// Pending is why no experiment measures the claim yet ("" when one
	// does).
	Pending string
	// Shown names where the claim is shown without a verdict of its own.
	Shown string
}

// LectureClaims returns every claim L1-L12 of the lecture in order. Each
// call builds new values.
func LectureClaims() []LectureClaim {
	return []LectureClaim{
		{ID: "L1", Statement: "batch (bounded, high latency, on demand) against streaming (unbounded, continuous, low latency)"},
		{ID: "L2", Statement: "streaming is a superset of batch"},
		{ID: "L3", Statement: "Lambda architecture and its critique (Kappa: replay the log)"},
		{ID: "L4", Statement: "mostly correct is not good enough: exactly-once for repeatable results"},
		{ID: "L5.1", Statement: "record acknowledgement costs throughput"},
		{ID: "L5.2", Statement: "no exactly-once without Trident, at a large cost"},
		{ID: "L5.3", Statement: "under backpressure slow processing looks like failure"},
		{ID: "L6.1", Statement: "micro-batches have higher latency"},
		{ID: "L6.2", Statement: "micro-batches limit windows: no count or session windows"},
		{ID: "L6.3", Statement: "micro-batch backpressure: batches queue until out of memory"},
		{ID: "L6.4", Statement: "the window size is tied to the batch interval"},
		{ID: "L7", Statement: "distributed snapshots: exactly-once with almost no overhead for small state"},
		{ID: "L8", Statement: "Dataflow: exactly-once through transactional updates"},
		{ID: "L9", Statement: "event time differs from processing time"},
		{ID: "L10", Statement: "four approaches to time"},
		{ID: "L11", Statement: "window shapes: fixed, sliding, sessions", Shown: "the windows experiment's table (fixed, sliding and session rows on every runtime); no verdict of its own"},
		{ID: "L12", Statement: "typical scenarios: recommendation, IoT, fraud detection, reports"},
	}
}

// claimTokens splits an experiment's claim ("L4/L5/L6/L7") into its ids.
func claimTokens(claim string) []string { return strings.Split(claim, "/") }

// writeCoverage writes the table of every lecture claim and the
// experiments that measure it.
func writeCoverage(b *strings.Builder, exps []*ExperimentResult) {
	b.WriteString("## Claims L1-L12\n\n| claim | statement | measured by | verdict |\n|---|---|---|---|\n")
	for _, c := range LectureClaims() {
		var by, verdicts []string
		for _, e := range exps {
			if slices.Contains(claimTokens(e.Claim), c.ID) {
				by = append(by, fmt.Sprintf("[%s](#%s)", e.Name, anchor(e)))
				verdicts = append(verdicts, e.Verdict.Kind.String())
			}
		}
		switch {
		case len(by) > 0:
			fmt.Fprintf(b, "| %s | %s | %s | %s |\n", c.ID, mdCell(c.Statement), strings.Join(by, ", "), strings.Join(verdicts, ", "))
		case c.Shown != "":
			fmt.Fprintf(b, "| %s | %s | shown in %s | - |\n", c.ID, mdCell(c.Statement), mdCell(c.Shown))
		case c.Pending != "":
			fmt.Fprintf(b, "| %s | %s | - | %s |\n", c.ID, mdCell(c.Statement), mdCell(c.Pending))
		default:
			fmt.Fprintf(b, "| %s | %s | - | not in these results |\n", c.ID, mdCell(c.Statement))
		}
	}
	b.WriteString("\n")
}

func anchor(e *ExperimentResult) string {
	s := strings.ToLower(e.Claim + "-" + e.Name)
	var out []rune
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
			out = append(out, c)
		case c == ' ':
			out = append(out, '-')
		}
	}
	return string(out)
}

func mdCell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ")
}

func writeTable(b *strings.Builder, t Table) {
	if len(t.Columns) == 0 {
		return
	}
	b.WriteString("|")
	for _, c := range t.Columns {
		b.WriteString(" " + mdCell(c) + " |")
	}
	b.WriteString("\n|")
	for range t.Columns {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range t.Rows {
		b.WriteString("|")
		for _, c := range r {
			b.WriteString(" " + mdCell(c) + " |")
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

// writeNexmarkSection renders opts.Nexmark, if any, as the report's
// Nexmark section: the table in nexmark/nexmark's shape and its notes.
func writeNexmarkSection(b *strings.Builder, opts ReportOptions) {
	if len(opts.Nexmark) == 0 {
		return
	}
	b.WriteString("## Nexmark: throughput per core, latency and the check, beside the published figures\n\n")
	if opts.NexmarkCommand != "" {
		fmt.Fprintf(b, "Measured by `%s`", opts.NexmarkCommand)
		if opts.NexmarkDate != "" {
			fmt.Fprintf(b, " on %s", opts.NexmarkDate)
		}
		if opts.NexmarkCommit != "" {
			fmt.Fprintf(b, " at commit %s", opts.NexmarkCommit)
		}
		b.WriteString(".\n\n")
	}
	writeTable(b, NexmarkTable(opts.Nexmark))
	for _, n := range NexmarkNotes() {
		fmt.Fprintf(b, "- %s\n", n)
	}
	b.WriteString("\n")
}
