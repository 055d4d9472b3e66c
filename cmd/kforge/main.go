// Command kforge is the single kforge binary: the installer's operator commands and every
// component kforge ships. All behaviour lives in package app so tests can drive it in-process.
package main

import (
	"os"

	"kforge.dev/kforge/cmd/kforge/app"
)

func main() { os.Exit(app.Main(os.Args, os.Stdin, os.Stdout, os.Stderr)) }
