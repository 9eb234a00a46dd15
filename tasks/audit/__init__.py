"""audit: the unsafe-code inventory, the sanitizer build, valgrind memcheck and the readers' fuzz, one report.
Reads the kernel sources and the audit/ scripts; writes reports/audit/checks/<check>.json, reports/audit/audit.md
with its JSON twin, the security posture page, and the sanitizer build under build/sanitizers/."""
