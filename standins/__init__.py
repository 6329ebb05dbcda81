"""Stand-ins for the platforms Warroom talks to, one subpackage per platform, as strict as the
real ones, for tests, benchmarks and the sandbox. The core (`bot/`) never imports them."""
