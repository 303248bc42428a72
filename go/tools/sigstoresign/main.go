// Command sigstoresign is a test oracle: it copies an image with
// containers/image's own copy and sigstore signer (the code skopeo and
// podman run), from the modules pybuildah pins, so that the tests can check
// that pybuildah verifies signatures it did not make.  The passphrase is
// read from standard input, never from an argument.
//
//	sigstoresign SOURCE DEST PRIVATE-KEY REGISTRIES.D < passphrase
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/transports/alltransports"
	"go.podman.io/image/v5/types"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "sigstoresign:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 4 {
		return fmt.Errorf("usage: sigstoresign SOURCE DEST PRIVATE-KEY REGISTRIES.D < passphrase")
	}
	src, err := alltransports.ParseImageName(args[0])
	if err != nil {
		return err
	}
	dest, err := alltransports.ParseImageName(args[1])
	if err != nil {
		return err
	}
	passphrase, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	policy, err := signature.NewPolicyContext(&signature.Policy{
		Default: signature.PolicyRequirements{signature.NewPRInsecureAcceptAnything()},
	})
	if err != nil {
		return err
	}
	defer policy.Destroy() //nolint:errcheck
	sys := &types.SystemContext{
		DockerInsecureSkipTLSVerify: types.OptionalBoolTrue,
		RegistriesDirPath:           args[3],
	}
	_, err = copy.Image(context.Background(), policy, dest, src, &copy.Options{
		SourceCtx:                        sys,
		DestinationCtx:                   sys,
		SignBySigstorePrivateKeyFile:     args[2],
		SignSigstorePrivateKeyPassphrase: []byte(strings.TrimRight(string(passphrase), "\n")),
	})
	return err
}
