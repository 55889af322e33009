// KlogsUserAgent: see the module's files.
