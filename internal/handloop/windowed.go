package handloop

import (
	"fmt"

	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/datasets"
)

// The workloads' constants, as compare's workloads define them; the tests
// check every loop against the reference answer of compare's pipeline, so
// a change there fails them until the loop follows.
const (
	ysbWindowMs     = 10_000 // ysb: fixed 10 s event-time windows
	minuteMs        = 60_000 // request-rate: fixed processing-time minutes
	slideMs         = 10_000 // iot-sliding, fraud: 60 s windows every 10 s
	slidingMs       = 60_000
	slides          = slidingMs / slideMs // windows per record
	fraudMinCount   = 5                   // fraud: Having count > 5
	countWindowSize = 100                 // count-window: 100 per card, tumbling
)

// countRow is one window's count (or integer sum) of one key.
type countRow struct {
	start, end int64
	key        int32 // dictionary code, or -1 for the empty key
	n          int64
}

// countAnswer is an answer of integer values, its keys codes of keyText.
type countAnswer struct {
	rows    []countRow
	keyText func(int32) string
}

func (a *countAnswer) Len() int { return len(a.rows) }

func (a *countAnswer) Results() []dataflow.Result {
	rs := make([]dataflow.Result, len(a.rows))
	for i, r := range a.rows {
		var key string
		if r.key >= 0 {
			key = a.keyText(r.key)
		}
		rs[i] = dataflow.Result{Window: dataflow.Window{Start: dataflow.Time(r.start), End: dataflow.Time(r.end)}, Key: key, Value: dataflow.Int(r.n)}
	}
	return rs
}

// ysb counts the views of each campaign per 10 s event-time window: a
// filter on the event_type code of "view", the ad-to-campaign join as a
// slice indexed by ad_id code, and per window a slice of counts indexed by
// campaign.
func ysb(l *datasets.Log, tables map[string]*dataflow.Table) (Answer, error) {
	in := newInput("ysb", "ysb", l)
	typeCol, adCol, timeCol := in.col("event_type", dataflow.KindString), in.col("ad_id", dataflow.KindString), in.col("event_time", dataflow.KindTimestamp)
	view := in.code(typeCol, "view")
	ads := in.dict(adCol)
	if in.err != nil {
		return nil, in.err
	}
	adCampaign, campaigns, err := campaignJoin(tables["campaigns"], ads)
	if err != nil {
		return nil, err
	}
	nc := len(campaigns)
	win := newSlotMap(func() *[]int64 { s := make([]int64, nc); return &s })
	var types, adCodes []int32 // decoded column ranges, reused across chunks
	var times []int64
	eachChunk(l, func(c *datasets.Chunk, lo, hi int) {
		types, adCodes, times = c.Codes32(typeCol, lo, hi, types), c.Codes32(adCol, lo, hi, adCodes), c.Ints64(timeCol, lo, hi, times)
		for i, et := range types {
			if et != view {
				continue
			}
			camp := adCampaign[adCodes[i]]
			if camp < 0 {
				continue // inner join: an ad without a campaign gives nothing
			}
			(*win.get(floorStart(times[i], ysbWindowMs)))[camp]++
		}
	})
	a := &countAnswer{keyText: func(c int32) string { return campaigns[c] }}
	for _, s := range win.sorted() {
		for camp, n := range *win.m[s] {
			if n > 0 {
				a.rows = append(a.rows, countRow{start: s, end: s + ysbWindowMs, key: int32(camp), n: n})
			}
		}
	}
	return a, nil
}

// campaignJoin maps each ad_id code of ads to its campaign's index in
// campaigns (-1: the table has no row for the ad), from the campaigns table
// (ad_id, campaign_id).
func campaignJoin(t *dataflow.Table, ads *datasets.Dict) ([]int32, []string, error) {
	if t == nil {
		return nil, nil, fmt.Errorf("handloop: ysb needs the campaigns table; pass the tables the ysb dataset was generated with")
	}
	ai, ci := t.Schema.Index("ad_id"), t.Schema.Index("campaign_id")
	if ai < 0 || ci < 0 {
		return nil, nil, fmt.Errorf("handloop: ysb's campaigns table needs columns ad_id and campaign_id; its schema is %v", t.Schema)
	}
	byAd := make(map[string]int32, len(t.Rows))
	var campaigns []string
	campIdx := make(map[string]int32)
	for _, row := range t.Rows {
		ad, camp := text(row[ai]), text(row[ci])
		if _, dup := byAd[ad]; dup {
			return nil, nil, fmt.Errorf("handloop: ysb's campaigns table has two rows for ad_id %s; lookup keys must be unique", ad)
		}
		c, ok := campIdx[camp]
		if !ok {
			c = int32(len(campaigns))
			campaigns = append(campaigns, camp)
			campIdx[camp] = c
		}
		byAd[ad] = c
	}
	adCampaign := make([]int32, ads.Len())
	for code := range adCampaign {
		c, ok := byAd[ads.Get(int32(code))]
		if !ok {
			c = -1
		}
		adCampaign[code] = c
	}
	return adCampaign, campaigns, nil
}

// text is a table value's key text ([dataflow.Value.AppendText]), without
// a copy for strings.
func text(v dataflow.Value) string {
	if v.K == dataflow.KindString {
		return v.S
	}
	return v.String()
}

// requestRate counts all requests per processing-time minute: the ingest
// time in ms (floor of ns / 1e6, as [dataflow.Record.ProcessingTime]).
func requestRate(l *datasets.Log, _ map[string]*dataflow.Table) (Answer, error) {
	if err := newInput("request-rate", "weblogs", l).err; err != nil {
		return nil, err
	}
	win := newSlotMap(func() *int64 { return new(int64) })
	var ingest []int64 // decoded ingest times, reused across chunks
	eachChunk(l, func(c *datasets.Chunk, lo, hi int) {
		ingest = c.Ingests(lo, hi, ingest)
		for _, ns := range ingest {
			ms := ns / 1e6
			if ns < 0 && ns%1e6 != 0 {
				ms-- // floor, for ingest times before the epoch
			}
			*win.get(floorStart(ms, minuteMs))++
		}
	})
	a := &countAnswer{}
	for _, s := range win.sorted() {
		a.rows = append(a.rows, countRow{start: s, end: s + minuteMs, key: -1, n: *win.m[s]})
	}
	return a, nil
}

// slidingSlots caches the state of the windows one record falls in: with
// windows of slides*slideMs every slideMs, the record at t is in the
// windows starting at its slot start and the slides-1 slots before it.
// Records arrive nearly in event-time order, so the set changes once per
// slot and the map is read then.
type slidingSlots[S any] struct {
	win     *slotMap[S]
	last    int64
	have    bool
	current [slides]*S // current[k]: window starting k slots before last
}

func newSlidingSlots[S any](mk func() *S) *slidingSlots[S] {
	return &slidingSlots[S]{win: newSlotMap(mk)}
}

// at returns the states of the windows holding t, latest start first.
func (s *slidingSlots[S]) at(t int64) *[slides]*S {
	slot := floorStart(t, slideMs)
	if !s.have || slot != s.last {
		for k := range s.current {
			s.current[k] = s.win.get(slot - int64(k)*slideMs)
		}
		s.last, s.have = slot, true
	}
	return &s.current
}

// meanAcc is one sensor's running sum and count in one window.
type meanAcc struct {
	sum float64
	n   int64
}

// meanAnswer is iot-sliding's answer: the mean temperature per sensor.
type meanAnswer struct {
	rows []meanRow
	keys *datasets.Dict
}

type meanRow struct {
	start int64
	key   int32
	acc   meanAcc
}

func (a *meanAnswer) Len() int { return len(a.rows) }

func (a *meanAnswer) Results() []dataflow.Result {
	rs := make([]dataflow.Result, len(a.rows))
	for i, r := range a.rows {
		rs[i] = dataflow.Result{Window: dataflow.Window{Start: dataflow.Time(r.start), End: dataflow.Time(r.start + slidingMs)},
			Key: a.keys.Get(r.key), Value: dataflow.Float(r.acc.sum / float64(r.acc.n))}
	}
	return rs
}

// iotSliding is the mean temperature per sensor in 60 s event-time windows
// every 10 s: per window a slice of sums and counts indexed by sensor_id
// code. Sums are added in the log's order, as the reference adds them, so
// the means are equal to the last bit.
func iotSliding(l *datasets.Log, _ map[string]*dataflow.Table) (Answer, error) {
	in := newInput("iot-sliding", "iot", l)
	keyCol, tempCol, timeCol := in.col("sensor_id", dataflow.KindString), in.col("temperature", dataflow.KindFloat64), in.col("event_time", dataflow.KindTimestamp)
	keys := in.dict(keyCol)
	if in.err != nil {
		return nil, in.err
	}
	nk := keys.Len()
	slots := newSlidingSlots(func() *[]meanAcc { s := make([]meanAcc, nk); return &s })
	var sensors []int32 // decoded column ranges, reused across chunks
	var temps []float64
	var times []int64
	eachChunk(l, func(c *datasets.Chunk, lo, hi int) {
		sensors, temps, times = c.Codes32(keyCol, lo, hi, sensors), c.Floats64(tempCol, lo, hi, temps), c.Ints64(timeCol, lo, hi, times)
		for i, k := range sensors {
			v := temps[i]
			for _, w := range slots.at(times[i]) {
				acc := &(*w)[k]
				acc.sum += v
				acc.n++
			}
		}
	})
	a := &meanAnswer{keys: keys}
	for _, s := range slots.win.sorted() {
		for k, acc := range *slots.win.m[s] {
			if acc.n > 0 {
				a.rows = append(a.rows, meanRow{start: s, key: int32(k), acc: acc})
			}
		}
	}
	return a, nil
}

// fraud lists the cards with more than 5 transactions in a sliding
// event-time minute (every 10 s): per window a slice of counts indexed by
// card_id code.
func fraud(l *datasets.Log, _ map[string]*dataflow.Table) (Answer, error) {
	in := newInput("fraud", "transactions", l)
	keyCol, timeCol := in.col("card_id", dataflow.KindString), in.col("event_time", dataflow.KindTimestamp)
	keys := in.dict(keyCol)
	if in.err != nil {
		return nil, in.err
	}
	nk := keys.Len()
	slots := newSlidingSlots(func() *[]int32 { s := make([]int32, nk); return &s })
	var cards []int32 // decoded column ranges, reused across chunks
	var times []int64
	eachChunk(l, func(c *datasets.Chunk, lo, hi int) {
		cards, times = c.Codes32(keyCol, lo, hi, cards), c.Ints64(timeCol, lo, hi, times)
		for i, k := range cards {
			for _, w := range slots.at(times[i]) {
				(*w)[k]++
			}
		}
	})
	a := &countAnswer{keyText: keys.Get}
	for _, s := range slots.win.sorted() {
		for k, n := range *slots.win.m[s] {
			if n > fraudMinCount {
				a.rows = append(a.rows, countRow{start: s, end: s + slidingMs, key: int32(k), n: int64(n)})
			}
		}
	}
	return a, nil
}

// countWindow sums the amount of every 100 transactions of a card: per
// card_id code the number of its records so far and the open window's sum.
// A window is emitted when its 100th record arrives; a partial one never
// is (dataflow I6).
func countWindow(l *datasets.Log, _ map[string]*dataflow.Table) (Answer, error) {
	in := newInput("count-window", "transactions", l)
	keyCol, amountCol := in.col("card_id", dataflow.KindString), in.col("amount", dataflow.KindInt64)
	keys := in.dict(keyCol)
	if in.err != nil {
		return nil, in.err
	}
	type card struct{ n, sum int64 }
	cards := make([]card, keys.Len())
	a := &countAnswer{keyText: keys.Get}
	var codes []int32 // decoded column ranges, reused across chunks
	var amounts []int64
	eachChunk(l, func(c *datasets.Chunk, lo, hi int) {
		codes, amounts = c.Codes32(keyCol, lo, hi, codes), c.Ints64(amountCol, lo, hi, amounts)
		for i, k := range codes {
			cd := &cards[k]
			cd.sum += amounts[i]
			cd.n++
			if cd.n%countWindowSize == 0 {
				a.rows = append(a.rows, countRow{start: cd.n - countWindowSize, end: cd.n, key: k, n: cd.sum})
				cd.sum = 0
			}
		}
	})
	return a, nil
}
