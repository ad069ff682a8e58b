package sketches_test

import (
	"fmt"

	"github.com/weirlab/weir/labs/sketches"
)

// Two tasks each sketch part of the input; the merge estimates the
// distinct values of the whole, counting the shared ones once.
func ExampleHLL_Merge() {
	a, err := sketches.NewHLL(12)
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := sketches.NewHLL(12)
	for i := range 600 {
		a.Add(fmt.Sprint("user-", i))     // users 0..599
		b.Add(fmt.Sprint("user-", i+400)) // users 400..999
	}
	if err := a.Merge(b); err != nil {
		fmt.Println(err)
		return
	}
	est := a.Estimate()
	fmt.Println(est > 970 && est < 1030) // 1,000 distinct, 1.6% standard error
	// Output: true
}

// Partial moments of two halves merge into the moments of the whole.
func ExampleMoments_Merge() {
	var a, b sketches.Moments
	for _, x := range []float64{2, 4, 4, 4} {
		a.Add(x)
	}
	for _, x := range []float64{5, 5, 7, 9} {
		b.Add(x)
	}
	a.Merge(b)
	fmt.Println(a.Count(), a.Mean(), a.Variance())
	// Output: 8 5 4
}
