package errkind

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"go.podman.io/image/v5/pkg/tlsclientconfig"
)

// A server that accepts and never answers: through the idle-timeout dialer
// (our image patch) the request fails in bounded time, as RegistryTimeout;
// a refused connection stays a RegistryError.
func TestStalledServerIsRegistryTimeout(t *testing.T) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()
	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			defer conn.Close() // held open, never answered
		}
	}()
	client := &http.Client{Transport: &http.Transport{
		DialContext: tlsclientconfig.IdleTimeoutDialer(nil, 200*time.Millisecond),
	}}
	start := time.Now()
	_, err = client.Get("http://" + listener.Addr().String() + "/v2/")
	if took := time.Since(start); err == nil || took > 2*time.Second {
		t.Fatalf("err %v after %v", err, took)
	}
	if kind := Describe(err).Kind; kind != RegistryTimeout {
		t.Errorf("kind %s for %v", kind, err)
	}
	if kind := Describe(&net.OpError{Op: "dial", Err: errors.New("connection refused")}).Kind; kind != RegistryError {
		t.Errorf("refused: %s", kind)
	}
	if kind := Describe(context.Canceled).Kind; kind == RegistryTimeout {
		t.Error("a cancel is no timeout")
	}
}
