// A client that retries with hashicorp/go-retryablehttp (Debian's package), unmodified, for the
// retry kit's examples: `retryclient <correct|broken> <METHOD> <URL> <Idempotency-Key>` prints
// the final status. "broken" is the library's default policy, which retries any method after a
// 5xx; "correct" re-sends a POST only when no response came back from the balancer at all.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	retryablehttp "github.com/hashicorp/go-retryablehttp"
)

func safePolicy(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if resp != nil && resp.Request != nil && resp.StatusCode >= 500 {
		switch resp.Request.Method {
		case http.MethodPost, http.MethodPatch:
			return false, nil // the request may have run: leave it to the caller
		}
	}
	return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
}

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: retryclient <correct|broken> <METHOD> <URL> <Idempotency-Key>")
		os.Exit(2)
	}
	client := retryablehttp.NewClient()
	client.Logger = nil
	client.RetryMax = 3
	client.RetryWaitMin = 100 * time.Millisecond
	client.RetryWaitMax = 2 * time.Second
	client.HTTPClient.Timeout = 10 * time.Second
	if os.Args[1] == "correct" {
		client.CheckRetry = safePolicy
	}
	var body interface{}
	if os.Args[2] == http.MethodPost {
		body = strings.NewReader("{}")
	}
	req, err := retryablehttp.NewRequest(os.Args[2], os.Args[3], body)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	req.Header.Set("Idempotency-Key", os.Args[4])
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println(0)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
}
