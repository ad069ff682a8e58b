package datasets

import (
	"math/rand/v2"

	"github.com/weirlab/weir/dataflow"
)

// iotGen generates sensor readings: 1,000 sensors report in turn; each has
// its own base temperature and humidity and a slow linear drift, every
// reading adds noise, and about one reading in 10,000 is an anomaly (20 to
// 40 degrees off). Values are computed in integer thousandths and converted
// once, so they are identical on every machine. Partitioned by sensor_id.
type iotGen struct{}

const (
	iotSensorID = iota
	iotTemperature
	iotHumidity
	iotEventTime
)

const iotSensors = 1000

func (iotGen) Name() string         { return "iot" }
func (iotGen) PartitionKey() string { return "sensor_id" }
func (iotGen) Schema() dataflow.Schema {
	return schemaOf(str("sensor_id"), f64("temperature"), f64("humidity"), tstamp("event_time"))
}
func (iotGen) Tables(uint64) map[string]*dataflow.Table { return map[string]*dataflow.Table{} }

// iotSensor is one sensor's calibration, in thousandths of a unit.
type iotSensor struct {
	baseT, baseH   int64 // milli-degrees C, milli-percent
	driftT, driftH int64 // per hour of event time
}

type iotStream struct {
	r       rand.PCG
	tl      timeline
	n       int64
	ids     pool
	sensors []iotSensor
}

func (iotGen) newStream(l *Log, cfg Config) stream {
	s := &iotStream{tl: newTimeline(cfg)}
	s.r.Seed(cfg.Seed, 2)
	r := newRand(cfg.Seed, 1)
	s.ids = newPool(l.Dict(iotSensorID), numbered("sensor-", iotSensors, 4), cfg.Partitions)
	s.sensors = make([]iotSensor, iotSensors)
	for i := range s.sensors {
		s.sensors[i] = iotSensor{
			baseT: 15_000 + r.Int64N(10_000), baseH: 30_000 + r.Int64N(40_000),
			driftT: r.Int64N(1001) - 500, driftH: r.Int64N(2001) - 1000,
		}
	}
	return s
}

func (s *iotStream) fill(b *batch, n int) {
	for i := range n {
		k := int(s.n % iotSensors)
		c := &s.sensors[k]
		t := s.tl.at(s.n)
		s.n++
		b.codes[iotSensorID][i] = s.ids.codes[k]
		b.part[i] = s.ids.parts[k]
		b.ints[iotEventTime][i] = t
		hours := t - int64(s.tl.start) // ms; drift is per hour
		x := s.r.Uint64()
		temp := c.baseT + c.driftT*hours/3_600_000 + int64(pick(uint32(x), 1001)) - 500
		hum := c.baseH + c.driftH*hours/3_600_000 + int64(pick(uint32(x>>32), 2001)) - 1000
		if y := s.r.Uint64(); pickN(y, 10_000) == 0 {
			off := 20_000 + int64(pick(uint32(y>>16), 20_001))
			if y>>63 == 0 {
				off = -off
			}
			temp += off
		}
		hum = min(max(hum, 0), 100_000)
		b.floats[iotTemperature][i] = float64(temp) / 1000
		b.floats[iotHumidity][i] = float64(hum) / 1000
	}
}
