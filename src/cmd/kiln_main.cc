// kiln: the command-line client. It will speak to kilnd over the EC2 API (issue 7); until the
// API exists it only says so.
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc > 1 && (std::strcmp(argv[1], "--version") == 0)) {
    std::puts("kiln 0.1.0 (storage engine only)");
    return 0;
  }
  std::fputs("kiln: the client needs kilnd's EC2 API, which is not built yet.\n", stderr);
  return 2;
}
