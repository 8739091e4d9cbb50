// Compiled only to produce the GoogleTest precompiled header that every kiln_test() binary
// reuses (see KILN_TEST_PCH in the top-level CMakeLists.txt).
