// Package snapshot is the checkpoint store both runtimes write their state
// to: a directory of numbered checkpoints, each holding one snapshot file
// per task and, once every task's file is written, a _COMPLETED marker.
// recordstream's exactly-once mode (Flink's barrier snapshots) and
// microbatch's driver checkpoints (Spark's offsets and keyed state) use the
// same [Store]; what a payload holds is the writer's business (both encode
// theirs with package dataflow/wire).
//
// The package imports only the standard library. It starts no goroutines
// and keeps no mutable state of its own; all I/O goes through the [FS]
// interface: [OSFS] for real files, [MemFS] for tests and runs that need no
// durability, [FaultFS] to inject failures and damage into either (pebble's
// vfs and vfs/errorfs are the model).
//
// # Usage
//
//	s, err := snapshot.NewStore(snapshot.Config{Dir: dir, Identity: snapshot.NewIdentity(job)})
//	err = s.CheckFresh() // before the run's first checkpoint: refuse another run's (SN6)
//	// On each checkpoint id (numbered above s.MaxID(), SN1):
//	f0, err := s.WriteTask(snapshot.TaskState{Checkpoint: id, Task: 0, Payload: p0})
//	f1, err := s.WriteTask(snapshot.TaskState{Checkpoint: id, Task: 1, Payload: p1})
//	pruneErr, err := s.Complete(id, []snapshot.TaskFile{f0, f1})
//	// On recovery:
//	c, err := s.Latest() // errors.Is(err, snapshot.ErrNoCheckpoint): start fresh
//	for _, e := range c.Skipped { ... } // newer checkpoints that could not be used
//
// The caller's duties:
//
//  1. Number checkpoints above every id in the store ([Store.MaxID]), so a
//     restart never reuses a directory (SN1).
//  2. Call [Store.Complete] only after every task's [Store.WriteTask]
//     returned, with the [TaskFile] each returned.
//  3. Count or log [Checkpoint.Skipped]: a skipped checkpoint that is not
//     merely unfinished (errors.Is(e, [ErrIncomplete]) false) means damage
//     on disk, and the restore went back further than it should have.
//  4. Give the store the run's [Identity] and call [Store.CheckFresh]
//     before the run's first checkpoint: a run restores only checkpoints
//     it wrote itself (SN6).
//
// # Layout
//
// The directory of a [Store]:
//
//	dir/
//	  chk-7/
//	    task-0.snap      one snapshot file per task
//	    task-1.snap
//	    _COMPLETED       written last: every task file with size and CRC-32C
//	  chk-8/             a checkpoint in progress (no marker yet)
//
// A snapshot file (all integers little endian):
//
//	offset  size  field
//	0       8     magic "WEIRSNAP"
//	8       2     version (1)
//	10      2     reserved, 0
//	12      8     checkpoint id
//	20      4     task id
//	24      8     payload length n
//	32      n     payload
//	32+n    4     CRC-32C (Castagnoli) of bytes [0, 32+n)
//
// The marker is text, one field per line, ending with the CRC-32C of the
// lines before it:
//
//	weir checkpoint 2
//	id 7
//	job "microbatch event-time pipeline ysb ..."   the writer's Identity.Job, quoted
//	run 3f9c0a1b2d4e5f60                           and its Identity.Run
//	tasks 2
//	task 0 1234 0a1b2c3d
//	task 1 99 89abcdef
//	crc32c 01234567
//
// # Invariants
//
//   - SN1 Checkpoint ids are positive and, when the caller numbers them
//     above [Store.MaxID], strictly increase across restarts.
//   - SN2 A checkpoint is complete only when its _COMPLETED marker, written
//     last and atomically, lists every task file with its size and CRC-32C.
//     A directory without a valid marker is never restored.
//   - SN3 Every file is written to a temporary name in the same directory,
//     synced, renamed over its final name, and the directory synced
//     ([WriteFileAtomic]), so a crash leaves either the old file or the new
//     one, never a torn file; a failure of any step is returned.
//     Checkpoint files are mode 0600 (only the run reads them); outputs
//     for people written the same way ([WriteFileAtomicPerm]) get the mode
//     their writer asks for, 0644 for the suite's results.
//   - SN4 [Store.Latest] returns the newest checkpoint whose marker and task
//     files are all present and valid (magic, version, size, CRC, id and
//     task), and reports every newer one it skipped with an error naming
//     the bad path.
//   - SN5 Completing checkpoint n deletes completed checkpoints beyond the
//     newest Keep and unfinished ones older than n, never newer ones (they
//     may be in progress).
//   - SN6 A checkpoint belongs to the run that wrote it: its marker records
//     the writer's [Identity] (what it computes from what, and a token drawn
//     when the run started), [Store.Load] refuses one recording another
//     identity with a *[ForeignError] naming the marker, and [Store.Latest]
//     returns that error rather than falling back past it. A run checks
//     that its directory holds no checkpoint at all before it writes its
//     first ([CheckFresh]): "the same run" is one run and the incarnations
//     it restarts after a crash, never a later process, whose in-memory
//     results could not include what the earlier one emitted.
//
// # When not to use
//
// The store keeps whole snapshots, rewritten at every checkpoint; it has no
// incremental or shared state between checkpoints, and reads a checkpoint
// into memory whole.
package snapshot
