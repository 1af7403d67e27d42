"""`qiangji`, the command line: one module per command; the only package that imports all the others."""
