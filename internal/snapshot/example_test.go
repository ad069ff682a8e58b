package snapshot_test

import (
	"fmt"

	"github.com/weirlab/weir/internal/snapshot"
)

// Two tasks write checkpoint 1 and the store completes it; a restore reads
// it back.
func ExampleStore() {
	s, err := snapshot.NewStore(snapshot.Config{Dir: "/checkpoints", FS: snapshot.NewMemFS()})
	if err != nil {
		fmt.Println(err)
		return
	}
	var files []snapshot.TaskFile
	for task, state := range []string{"offsets 4711", "window state"} {
		f, err := s.WriteTask(snapshot.TaskState{Checkpoint: 1, Task: snapshot.TaskID(task), Payload: []byte(state)})
		if err != nil {
			fmt.Println(err)
			return
		}
		files = append(files, f)
	}
	if _, err := s.Complete(1, files); err != nil {
		fmt.Println(err)
		return
	}
	c, err := s.Latest()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.ID, string(c.Tasks[0]), "|", string(c.Tasks[1]))
	// Output:
	// chk-1 offsets 4711 | window state
}
