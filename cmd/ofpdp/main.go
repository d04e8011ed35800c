package main

import (
	"os"

	"github.com/ofpdp/ofpdp/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:])) }
