package app

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"kforge.dev/kforge/version"
)

func newVersionCommand(s Streams) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version of kforge",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info := version.Get()
			switch output {
			case "":
				fmt.Fprintf(s.Out, "kforge version: %#v\n", info)
			case "short":
				fmt.Fprintln(s.Out, info.GitVersion)
			case "json":
				b, err := json.MarshalIndent(info, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintln(s.Out, string(b))
			case "yaml":
				b, err := yaml.Marshal(info)
				if err != nil {
					return err
				}
				fmt.Fprint(s.Out, string(b))
			default:
				return fmt.Errorf("version: unknown output format %q; use one of: json, yaml, short", output)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "Output format; available options are 'yaml', 'json' and 'short'")
	return cmd
}
