package checkpoint

import (
	"github.com/weirlab/weir/dataflow"
	"github.com/weirlab/weir/dataflow/wire"
	"github.com/weirlab/weir/internal/snapshot"
)

// The store and the encoding moved to internal/snapshot and dataflow/wire.
// sim_test.go, which another change is rewriting, still calls them by
// their old names in this package; these test-only names keep it compiling
// until it uses snapshot.*, wire.* and dataflow's codecs itself.
type (
	Store       = snapshot.Store
	StoreConfig = snapshot.Config
	Snapshot    = snapshot.TaskState
)

var ErrNoCheckpoint = snapshot.ErrNoCheckpoint

func NewStore(cfg StoreConfig) (*Store, error)     { return snapshot.NewStore(cfg) }
func newMemFS() *snapshot.MemFS                    { return snapshot.NewMemFS() }
func Sections(b []byte) (map[string][]byte, error) { return wire.Sections(b) }
func AppendSection(dst []byte, name string, data []byte) []byte {
	return wire.AppendSection(dst, name, data)
}
func AppendString(dst []byte, s string) []byte          { return wire.AppendString(dst, s) }
func AppendResult(dst []byte, r dataflow.Result) []byte { return dataflow.AppendResult(dst, r) }
func NewDecoder(b []byte) simDecoder                    { return simDecoder{wire.NewDecoder(b)} }
func (d simDecoder) Result() dataflow.Result            { return dataflow.DecodeResult(d.Decoder) }

// simDecoder is wire's Decoder with the Result method the old decoder had.
type simDecoder struct{ *wire.Decoder }
