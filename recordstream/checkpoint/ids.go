package checkpoint

import "github.com/weirlab/weir/internal/snapshot"

// The checkpoint store is package internal/snapshot, shared with
// microbatch. Its ids and file descriptions are part of this package's API
// (barriers, acknowledgements, transactions), so they keep short names here.
type (
	// ID numbers a checkpoint; ids strictly increase (CK1).
	ID = snapshot.ID
	// TaskID names one task of a topology (a spout, bolt or sink instance).
	TaskID = snapshot.TaskID
	// TaskFile describes a task's written snapshot file, as a task
	// acknowledges it ([Ack]) and the _COMPLETED marker lists it.
	TaskFile = snapshot.TaskFile
)
