package handloop

import (
	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// grepDomains returns the domains the grep workload keeps, as compare's
// GrepDomains chooses them from the weblogs dataset's fixed names.
func grepDomains() []string {
	d := datasets.WeblogDomains()
	return []string{d[1], d[7], d[20]}
}

// grepRow is one kept request: codes of its domain and path, its status.
type grepRow struct {
	domain, path int32
	status       int64
}

type grepAnswer struct {
	rows          []grepRow
	domains, path *datasets.Dict
}

func (a *grepAnswer) Len() int { return len(a.rows) }

func (a *grepAnswer) Results() []dataflow.Result {
	rs := make([]dataflow.Result, len(a.rows))
	for i, r := range a.rows {
		rs[i] = dataflow.Result{Key: a.domains.Get(r.domain), Value: dataflow.Str(a.path.Get(r.path)),
			Extra: []dataflow.Value{dataflow.Int(r.status)}}
	}
	return rs
}

// grep keeps the requests to three domains, with their path and status:
// the domain filter is a slice of booleans indexed by domain code, and a
// kept request is three integers appended to the output.
func grep(l *datasets.Log, _ map[string]*dataflow.Table) (Answer, error) {
	in := newInput("grep", "weblogs", l)
	domainCol, pathCol, statusCol := in.col("domain", dataflow.KindString), in.col("path", dataflow.KindString), in.col("status", dataflow.KindInt64)
	domains, paths := in.dict(domainCol), in.dict(pathCol)
	if in.err != nil {
		return nil, in.err
	}
	keep := make([]bool, domains.Len())
	for _, d := range grepDomains() {
		if c := in.code(domainCol, d); c >= 0 {
			keep[c] = true
		}
	}
	a := &grepAnswer{domains: domains, path: paths}
	var ds []int32 // decoded domain codes, reused across chunks
	eachChunk(l, func(c *datasets.Chunk, lo, hi int) {
		// The filter reads every domain; only the kept rows (a few in a
		// hundred) read their path and status.
		ds = c.Codes32(domainCol, lo, hi, ds)
		for i, d := range ds {
			if keep[d] {
				a.rows = append(a.rows, grepRow{domain: d, path: c.Code(pathCol, lo+i), status: c.Int(statusCol, lo+i)})
			}
		}
	})
	return a, nil
}
