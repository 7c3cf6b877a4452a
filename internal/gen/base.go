package gen

import (
	"fmt"
	"time"

	"howett.net/plist"
)

// Domains of the fixed content that have no app behind them.
const (
	homeDomain      = "HomeDomain"
	cameraDomain    = "CameraRollDomain"
	mediaDomain     = "MediaDomain"
	keyboardDomain  = "KeyboardDomain"
	rootDomain      = "RootDomain"
	sysPrefsDomain  = "SystemPreferencesDomain"
	wirelessDomain  = "WirelessDomain"
	profilesDomain  = "SysSharedContainerDomain-systemgroup.com.apple.configurationprofiles"
	smsPath         = "Library/SMS/sms.db"
	bigFilePath     = "Media/Recordings/big.mov"
	photoDir        = "Media/DCIM/100APPLE"
	symlinkedPhoto  = photoDir + "/IMG_0001.JPG"
	photoCount      = 6
	attachmentsRoot = "Library/SMS/Attachments"
)

// Headers that make generated media files recognisable to `file` and forensic tools.
var (
	heicHeader = []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic")
	movHeader  = []byte("\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ")
	m4aHeader  = []byte("\x00\x00\x00\x1cftypM4A \x00\x00\x00\x00M4A mp42isom")
	pdfBody    = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" +
		"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n" +
		"trailer << /Root 1 0 R >>\n%%EOF\n")
)

// planBase adds the fixed, realistic part of the backup: what a forensic examiner
// would look at first (messages, photos, preferences, apps), plus every oddity the
// readers must survive: missing parent rows, symlinks, extended attributes, empty
// files, sizes that lie, names in NFD.
func (p *planner) planBase() error {
	// Parent directories deliberately written without a row.
	for _, k := range [][2]string{
		{cameraDomain, "Media/DCIM"},
		{homeDomain, attachmentsRoot},
		{"AppDomain-com.example.chat", "Library/Caches"},
	} {
		p.omit[dirKey(k[0], k[1])] = true
	}

	// HomeDomain: messages, contacts, preferences.
	p.t.IOSMajor = iosMajor(p.t.ProductVersion)
	sms, msgs, chats, smsFiles, err := smsDatabase(p.opt.Seed, 0, p.t.IOSMajor, p.opt.Messages, p.t0)
	if err != nil {
		return err
	}
	p.t.Messages, p.t.Chats = msgs, chats
	e := p.file(homeDomain, smsPath, 3, modeFile, literal(sms))
	e.RecordedSize = e.TrueSize - 4096 // the manifest lags behind the database
	p.file(homeDomain, smsPath+"-wal", 3, modeFile, literal(nil))
	p.gen(homeDomain, smsPath+"-shm", 3, contentRandom, 32768, nil).Mode = modePrivate
	attachment := fmt.Sprintf("%s/4f/15/%s/IMG_4120.JPG", attachmentsRoot, p.uuid())
	p.file(homeDomain, attachment, 3, modeFile, literal(jpegImage(p.opt.Seed, 100)))
	for _, f := range smsFiles {
		p.file(f.domain, f.path, 3, modeFile, literal(f.data))
	}

	ab, abImages, contacts, err := addressBookDatabase(p.opt.Seed, p.t0)
	if err != nil {
		return err
	}
	p.t.Contacts = contacts
	e = p.file(homeDomain, "Library/AddressBook/AddressBook.sqlitedb", 3, modeFile, literal(ab))
	e.RecordedSize = e.TrueSize + 8192 // the manifest is ahead of the database
	p.file(homeDomain, "Library/AddressBook/AddressBookImages.sqlitedb", 3, modeFile, literal(abImages))

	p.t.Calls = callRecords(p.t0, p.opt.Seed)
	if p.t.IOSMajor >= 8 {
		calls, err := callHistoryDatabase(p.t.IOSMajor, p.t.Calls)
		if err != nil {
			return err
		}
		p.file(homeDomain, "Library/CallHistoryDB/CallHistory.storedata", 3, modeFile, literal(calls))
	} else {
		p.t.Calls = oldCalls(p.t.Calls)
		calls, err := oldCallHistoryDatabase(p.t.Calls)
		if err != nil {
			return err
		}
		p.file(wirelessDomain, "Library/CallHistory/call_history.db", 3, modeFile, literal(calls))
	}
	p.file(homeDomain, "Library/Preferences/.GlobalPreferences.plist", 4, modeFile, literal(mustBinaryPlist(map[string]any{
		"AppleLanguages": []string{"en-US", "fr-FR"}, "AppleLocale": "en_US", "AppleICUForce24HourTime": true,
	})))
	p.file(homeDomain, "Library/Preferences/com.apple.springboard.plist", 4, modeFile, literal(mustBinaryPlist(map[string]any{
		"SBShowBatteryPercentage": true, "SBAutoLockTime": 60,
		"SBIconState": []string{"com.apple.mobilesafari", "com.example.notes", "com.example.chat"},
	})))
	p.file(homeDomain, "Library/Preferences/com.apple.MobileSMS.plist", 4, modeFile, literal(mustBinaryPlist(map[string]any{
		"KeepMessageForDays": 0, "ReadReceiptsEnabled": false,
	})))
	p.gen(homeDomain, "Library/Cookies/Cookies.binarycookies", 3, contentRandom, 4096, []byte("cook")).Mode = modePrivate
	p.gen(homeDomain, "Library/Notes/notes.txt", 3, contentText, 2200, nil)
	// Symlinks hold absolute device paths; the second one leads into another domain
	// that shares HomeDomain's /var/mobile.
	p.symlink(homeDomain, "Library/Fonts", "/var/mobile/Media/Fonts")
	p.symlink(homeDomain, "Library/Wallpaper/current.jpg", "/var/mobile/"+symlinkedPhoto)

	// CameraRollDomain: real JPEGs, HEIC and MOV look-alikes, the photo library.
	p.ensureDir(cameraDomain, photoDir)
	var photoNames []string
	for i := 1; i <= photoCount; i++ {
		name := fmt.Sprintf("IMG_%04d.JPG", i)
		photoNames = append(photoNames, name)
		e := p.file(cameraDomain, photoDir+"/"+name, 3, modeFile, literal(jpegImage(p.opt.Seed, i)))
		if i <= 3 {
			e.XAttrs = map[string][]byte{
				"com.apple.assetsd.UUID":             []byte(p.uuid()),
				"com.apple.assetsd.originalFilename": []byte(name),
			}
		}
	}
	for i := photoCount + 1; i <= photoCount+2; i++ {
		name := fmt.Sprintf("IMG_%04d.HEIC", i)
		photoNames = append(photoNames, name)
		e := p.gen(cameraDomain, photoDir+"/"+name, 3, contentRandom, p.sizeBetween(20_000, 60_000), heicHeader)
		if i == photoCount+2 {
			e.RecordedSize = e.TrueSize + 1
		}
	}
	photoNames = append(photoNames, fmt.Sprintf("IMG_%04d.MOV", photoCount+3))
	p.gen(cameraDomain, photoDir+"/"+photoNames[len(photoNames)-1], 3, contentRandom, p.sizeBetween(100_000, 200_000), movHeader)
	photos, assets, err := photosDatabase(p.opt.Seed, p.t.IOSMajor, photoDir, photoNames, p.t0)
	if err != nil {
		return err
	}
	p.t.Photos = assets
	p.file(cameraDomain, "Media/PhotoData/Photos.sqlite", 3, modeFile, literal(photos))
	p.ensureDir(cameraDomain, "Media/PhotoData/Thumbnails")

	// MediaDomain: voice memos, one with a decomposed (NFD) name as iOS stores it.
	p.gen(mediaDomain, "Media/Recordings/Recording 001.m4a", 3, contentRandom, p.sizeBetween(30_000, 50_000), m4aHeader)
	const nfdName = "Cafe\u0301 Noe\u0308l.m4a" // "Café Noël.m4a" decomposed
	p.gen(mediaDomain, "Media/Recordings/"+nfdName, 3, contentRandom, p.sizeBetween(10_000, 20_000), m4aHeader)
	if p.opt.BigFileSize > 0 {
		p.gen(mediaDomain, bigFilePath, 3, contentRandom, p.opt.BigFileSize, movHeader)
	}

	p.gen(keyboardDomain, "Library/Keyboard/en-dynamic.lm/dynamic-lexicon.dat", 3, contentRandom, 8192, nil)
	p.gen(keyboardDomain, "Library/Keyboard/dynamic-text.dat", 3, contentText, 1500, nil)

	p.file(rootDomain, "Library/Preferences/com.apple.MobileBackup.plist", 4, modeFile, literal(mustBinaryPlist(map[string]any{
		"LastBackupDate": time.Unix(p.t0, 0).UTC(), "BackupStateInfo": map[string]any{"isCloud": false},
	})))
	if err := p.cacheDB(rootDomain, "Library/Caches/locationd/consolidated.db", 4, 16384); err != nil {
		return err
	}
	p.symlink(rootDomain, "Library/Logs/CrashReporter", "/var/mobile/Library/Logs/CrashReporter")

	p.file(sysPrefsDomain, "SystemConfiguration/preferences.plist", 4, modeFile, literal(mustBinaryPlist(map[string]any{
		"System": map[string]any{"System": map[string]any{"ComputerName": p.t.DeviceName, "HostName": "Synthetic-iPhone"}},
	})))
	p.file(sysPrefsDomain, "SystemConfiguration/com.apple.wifi.plist", 4, modeFile, literal(mustBinaryPlist(map[string]any{
		"List of known networks": []map[string]any{{"SSID_STR": "ExampleNet"}, {"SSID_STR": "Café Wi-Fi"}},
	})))

	p.file(wirelessDomain, "Library/Preferences/com.apple.commcenter.plist", 4, modeFile, literal(mustBinaryPlist(map[string]any{
		"PhoneNumber": p.t.PhoneNumber, "imei": p.t.IMEI,
	})))
	if err := p.cacheDB(wirelessDomain, "Library/Databases/CellularUsage.db", 4, 20480); err != nil {
		return err
	}

	p.file(profilesDomain, "Library/ConfigurationProfiles/CloudConfigurationDetails.plist", 4, modeFile, literal(mustBinaryPlist(map[string]any{
		"AllowPairing": true, "IsSupervised": false,
	})))
	p.file(profilesDomain, "Library/ConfigurationProfiles/PublicInfo/MCMeta.plist", 4, modeFile, literal(mustBinaryPlist(map[string]any{
		"ProfileCount": 0,
	})))

	return p.planApps()
}

// cacheDB adds a real SQLite database of about size bytes (see cacheDatabase).
func (p *planner) cacheDB(domain, path string, class uint32, size int64) error {
	db, err := cacheDatabase(p.opt.Seed, path, size)
	if err != nil {
		return err
	}
	p.file(domain, path, class, modeFile, literal(db))
	return nil
}

func (p *planner) planApps() error {
	for _, app := range p.t.Apps {
		d := "AppDomain-" + app.BundleID
		p.ensureDir(d, "Documents")
		p.file(d, "Library/Preferences/"+app.BundleID+".plist", 4, modeFile, literal(mustBinaryPlist(map[string]any{
			"LaunchCount": 17, "LastVersion": app.Version, "OnboardingDone": true,
		})))
		p.ensureDir(d, "Library/Caches")
		switch app.BundleID {
		case "com.example.notes":
			p.gen(d, "Documents/Note 1.txt", 3, contentText, 900, []byte("Shopping list\n"))
			p.gen(d, "Documents/Note 2.txt", 3, contentText, 4000, []byte("Meeting notes\n"))
			p.file(d, "Documents/.placeholder", 3, modeFile, literal(nil))
			p.file(d, "Documents/Attachments/sketch.jpg", 3, modeFile, literal(jpegImage(p.opt.Seed, 200)))
		case "com.example.chat":
			e := p.file(d, "Documents/download.pdf", 3, modeFile, literal(pdfBody))
			e.XAttrs = map[string][]byte{
				"com.apple.metadata:kMDItemWhereFroms": mustBinaryPlist([]string{"https://files.example.com/report.pdf", "https://chat.example.com/"}),
				"com.apple.quarantine":                 fmt.Appendf(nil, "0083;%08x;Chatter;%s", p.t0-3*day, p.uuid()),
			}
			if err := p.cacheDB(d, "Library/Caches/com.example.chat/Cache.db", 4, 24576); err != nil {
				return err
			}
			g := "AppDomainGroup-group." + app.BundleID
			p.file(g, "Library/Preferences/group."+app.BundleID+".plist", 4, modeFile, literal(mustBinaryPlist(map[string]any{
				"SharedAccount": "user@example.com",
			})))
			p.gen(g, "Shared/messages-cache.dat", 3, contentRandom, 6000, nil)
			w := "AppDomainPlugin-" + app.BundleID + ".widget"
			p.file(w, "Library/Preferences/"+app.BundleID+".widget.plist", 4, modeFile, literal(mustBinaryPlist(map[string]any{
				"WidgetStyle": "compact",
			})))
		case "com.example.maps":
			p.gen(d, "Documents/Offline/region-01.pack", 3, contentRandom, 65536, []byte("WFPK"))
		}
	}
	return nil
}

// mustBinaryPlist encodes fixed in-package values; failing would be a programming
// error caught by every test, not a runtime condition.
func mustBinaryPlist(v any) []byte {
	b, err := plist.Marshal(v, plist.BinaryFormat)
	if err != nil {
		panic(fmt.Sprintf("gen: encode built-in plist: %v", err))
	}
	return b
}
