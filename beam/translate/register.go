package translate

import (
	"context"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

// Beam's Go SDK finds DoFns, combiners, coders and emitters by type when a
// worker decodes a pipeline, so each is registered once, here: the one
// place this module writes Beam's global registries.
func init() {
	beam.RegisterCoder(reflect.TypeOf(Elem{}), encodeElem, decodeElem)
	beam.RegisterCoder(reflect.TypeOf(Acc{}), encodeAcc, decodeAcc)
	register.DoFn5x2[context.Context, *sdf.ManualWatermarkEstimator, *sdf.LockRTracker, int, func(beam.EventTime, string, Elem), sdf.ProcessContinuation, error](&ReadFn{})
	register.Emitter3[beam.EventTime, string, Elem]()
	register.Combiner3[Acc, Elem, Elem](&CombineFn{})
	register.DoFn3x0[string, func(*Elem) bool, func(string, Elem)](&CountFn{})
	register.Iter1[Elem]()
	register.Emitter2[string, Elem]()
	register.DoFn4x0[typex.PaneInfo, beam.Window, string, Elem](&SinkFn{})
}
