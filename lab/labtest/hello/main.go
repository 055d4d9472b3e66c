package main

import (
	"fmt"
	"os"
)

func main() {
	host, _ := os.Hostname()
	fmt.Printf("hello from a runc container: pid=%d hostname=%s\n", os.Getpid(), host)
}
