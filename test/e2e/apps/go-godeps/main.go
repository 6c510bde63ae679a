// A web app for the Go buildpack: answers on $PORT with who powers it and which release it is.
package main

import (
	"fmt"
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		powered := os.Getenv("POWERED_BY")
		if powered == "" {
			powered = "Deis"
		}
		fmt.Fprintf(w, "Powered by %s (Go) release %s\n", powered, os.Getenv("WORKFLOW_RELEASE"))
	})
	if err := http.ListenAndServe(":"+os.Getenv("PORT"), nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
