// KlogsCore: see the module's files.
