"""The paper's numbers (docs: /shared/paper/SUMMARY.md): Linux 2.6.33.7 kernel
module, Core i7 2.8 GHz, 1 Gb Ethernet, a file five directories deep on NFS."""

#: Table 1, ms per call: (A no mechanism, B mechanism run locally, C forwarded)
TABLE1_MS = {
    "open": (0.353, 0.358, 0.717),
    "close": (0.368, 0.370, 0.460),
    "mkdir": (1.124, 1.130, 1.402),
    "rmdir": (1.036, 1.037, 1.416),
    "symlink": (1.521, 1.530, 1.884),
    "flock": (0.981, 0.982, 1.099),
}

#: Figure 9: a forwarded read grows by about this much per 4 KiB page
FIG9_MS_PER_PAGE = 0.4
