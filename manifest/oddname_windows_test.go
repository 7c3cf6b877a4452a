package manifest

// oddFolderName holds the characters a SQLite file: URI treats specially that Windows
// allows in a name ('?' is not one of them), and the ones Windows allows that some URI
// readers would take for separators.
const oddFolderName = "odd #% name;&=+"
