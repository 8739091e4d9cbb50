// kiln: the command-line client of kilnd (src/cli). Everything but main() lives in kiln_cli.
#include "cli/app.h"

int main(int argc, char** argv) { return kiln::cli::RunKiln(argc, argv); }
