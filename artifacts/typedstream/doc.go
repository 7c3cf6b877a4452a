// Package typedstream decodes Apple's typedstream archives (the NeXTSTEP NXTypedStream
// format that NSArchiver still writes), and in particular the NSAttributedString that
// iOS 16+ keeps in the attributedBody column of sms.db when the text column is NULL.
//
// The format, as public descriptions give it (Apple's typedstream.h in the GNU libobjc
// sources, Christopher Sardegna's reverse-engineering article and the crabstep
// documentation) and as the real blobs in this package's tests confirm:
//
//   - A header: the version byte 4, the signature "streamtyped" as a length-prefixed
//     string, and the system version (1000) as an integer.
//   - Integers: one signed byte, or 0x81 then an int16, 0x82 then an int32, 0x87 then an
//     int64 (all little-endian). 0x83 starts a raw float (4 bytes) or double (8 bytes);
//     an integral float may also be written as a plain integer.
//   - Tags where an object, class or shared string may stand: 0x84 "new" (the thing
//     follows and takes the next slot of its table), 0x85 nil, 0x86 the end of an
//     object's contents; anything else is a label read as an integer, the first label
//     being -110 (0x92): a reference to slot label+110 of the table.
//   - Two tables: shared strings (type encodings such as "@", "iI", "+", and class
//     names) and objects (objects and classes alike; an object takes its slot before its
//     class is read, then each class of the chain takes one).
//   - An object is its class chain (name, version, superclass ... nil), then groups of
//     values, each a type-encoding string followed by one value per type character,
//     until 0x86.
//
// Type characters used by Foundation's archivers: '@' object, '+' a byte string with an
// integer length (an NSString's UTF-8 text), '*' a C string (0x84 + shared string, or
// 0x85 for NULL), 'c' 'i' 's' 'l' 'q' (signed) and 'C' 'I' 'S' 'L' 'Q' (unsigned)
// integers, 'f' 'd' floating point, ':' a selector, '#' a class, "[Nt]" an array of N
// values of type t ("[Nc]" are N raw bytes, such as an NSData's contents).
//
// NSAttributedString's contents are its NSString, then one ("iI" id, length) group per
// attribute run, the length in UTF-16 code units; when id is new, an NSDictionary of
// the run's attributes follows, otherwise the run reuses the dictionary of that id.
//
// The decoder works on a byte slice, never panics, and bounds what it allocates by the
// input's length (arrays and strings are checked against the bytes left, recursion is
// limited), so hostile blobs cost at most a small multiple of their size.
package typedstream
