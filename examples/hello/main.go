// Command hello is a tiny static HTTP server: the program that
// examples/hello_world.py builds into an image.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"runtime"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "Hello, World! (hello %s, %s/%s, built with pybuildah)\n", version, runtime.GOOS, runtime.GOARCH)
	})
	addr := ":" + port
	log.Printf("hello %s listening on %s", version, addr)
	log.Fatal(http.ListenAndServe(addr, nil))
}
