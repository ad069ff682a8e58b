package cleansing_test

import (
	"fmt"

	"github.com/weirlab/weir/labs/cleansing"
)

// A request to a partner site becomes a page view with the site's
// category; a static asset does not.
func ExampleCleaner_Clean() {
	c, err := cleansing.NewCleaner(cleansing.Sites())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range []cleansing.Request{
		{Domain: "www.shop.example", Path: "/blog/sale", Status: 200, Bytes: 4096, LatencyMs: 35},
		{Domain: "www.shop.example", Path: "/static/app.js", Status: 200, Bytes: 4096, LatencyMs: 3},
	} {
		v, ok := c.Clean(r)
		fmt.Println(ok, v.Category, v.KB)
	}
	// Output:
	// true commerce 4
	// false  0
}
