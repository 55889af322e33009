// KlogsIngest: see the module's files.
