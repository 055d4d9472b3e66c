package app

import (
	"github.com/spf13/cobra"

	"kforge.dev/kforge/config"
)

func newConfigCommand(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Manage configuration for a kforge cluster",
		Args:  cobra.NoArgs,
	}
	print := &cobra.Command{
		Use:   "print",
		Short: "Print configuration",
		Args:  cobra.NoArgs,
	}
	print.AddCommand(&cobra.Command{
		Use:   "init-defaults",
		Short: "Print default init configuration, that can be used for 'kforge init'",
		Long: "This command prints objects such as the default init configuration that is used for 'kforge init'.\n\n" +
			"Note that sensitive values like the Bootstrap Token fields are replaced with placeholder values like\n" +
			"\"abcdef.0123456789abcdef\" in order to pass validation but not perform the real computation for creating a token.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			b, err := config.MarshalInitConfiguration(config.DefaultInitConfiguration())
			if err != nil {
				return err
			}
			_, err = s.Out.Write(b)
			return err
		},
	}, &cobra.Command{
		Use:   "join-defaults",
		Short: "Print default join configuration, that can be used for 'kforge join'",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			b, err := config.MarshalJoinConfiguration(config.DefaultJoinConfiguration())
			if err != nil {
				return err
			}
			_, err = s.Out.Write(b)
			return err
		},
	})
	cmd.AddCommand(print)
	return cmd
}
