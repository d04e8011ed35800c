package demo

// The catalogue the generators draw from: Malaysian merchants with their card merchant
// category codes (ISO 18245), JomPAY billers, FPX merchants, ATM locations and names. Amounts
// are ranges in sen.

// merchant is a card or QR merchant.
type merchant struct {
	name     string
	mcc      string
	min, max int64
	weight   int
}

// cardMerchants are where people in the Klang Valley use a debit or credit card.
var cardMerchants = []merchant{
	{"LOTUS'S MUTIARA DAMANSARA", "5411", 2500, 38000, 8},
	{"TESCO LOTUS KEPONG", "5411", 2000, 30000, 4},
	{"MYDIN MALL USJ", "5411", 2000, 32000, 6},
	{"AEON BIG WANGSA MAJU", "5411", 3000, 35000, 6},
	{"JAYA GROCER THE GARDENS", "5411", 2500, 28000, 4},
	{"99 SPEEDMART", "5411", 800, 9000, 6},
	{"VILLAGE GROCER BANGSAR", "5411", 2500, 25000, 3},
	{"PETRONAS SS2", "5541", 4000, 15000, 7},
	{"PETRONAS JALAN DUTA", "5541", 4000, 15000, 4},
	{"SHELL DAMANSARA UTAMA", "5541", 4000, 15000, 5},
	{"PETRON KOTA DAMANSARA", "5541", 4000, 12000, 3},
	{"GRAB RIDES", "4121", 800, 4500, 7},
	{"GRABFOOD", "5814", 1500, 7000, 6},
	{"MCDONALD'S SS2", "5814", 1000, 4500, 4},
	{"KFC SUBANG JAYA", "5814", 1000, 5000, 3},
	{"STARBUCKS PAVILION", "5814", 1200, 3500, 3},
	{"ZUS COFFEE", "5814", 800, 2500, 4},
	{"TEALIVE", "5814", 600, 1800, 3},
	{"SECRET RECIPE", "5812", 1500, 9000, 2},
	{"NANDO'S MID VALLEY", "5812", 3000, 14000, 2},
	{"OLDTOWN WHITE COFFEE", "5812", 1500, 6000, 3},
	{"NASI KANDAR PELITA", "5812", 1200, 5000, 3},
	{"WATSONS SUNWAY PYRAMID", "5912", 1000, 15000, 3},
	{"GUARDIAN ONE UTAMA", "5912", 1000, 12000, 3},
	{"CARING PHARMACY", "5912", 1500, 18000, 2},
	{"MR DIY", "5251", 500, 12000, 4},
	{"UNIQLO MID VALLEY", "5651", 3990, 39900, 2},
	{"PADINI CONCEPT STORE", "5651", 3990, 29900, 1},
	{"POPULAR BOOK CO", "5942", 1500, 12000, 1},
	{"GSC MID VALLEY", "7832", 1800, 7000, 2},
	{"TGV CINEMAS", "7832", 1800, 6500, 1},
	{"SENHENG ELECTRIC", "5732", 9900, 249900, 1},
	{"IKEA CHERAS", "5712", 5000, 150000, 1},
	{"7-ELEVEN MALAYSIA", "5499", 300, 3000, 5},
	{"FAMILYMART", "5499", 400, 3500, 3},
	{"MYNEWS", "5994", 300, 2500, 2},
	{"TOUCH N GO RELOAD", "4784", 2000, 10000, 2},
}

// onlineMerchants are card-not-present merchants.
var onlineMerchants = []merchant{
	{"SHOPEE MALAYSIA", "5262", 1500, 35000, 8},
	{"LAZADA MALAYSIA", "5262", 1500, 30000, 5},
	{"AIRASIA.COM", "4511", 15000, 120000, 1},
	{"MALAYSIA AIRLINES", "4511", 30000, 250000, 1},
	{"FOODPANDA", "5814", 1500, 6000, 3},
	{"APPLE.COM/BILL", "5818", 490, 4900, 2},
}

// qrMerchants take DuitNow QR: hawkers, kopitiams and small shops.
var qrMerchants = []merchant{
	{"NASI LEMAK WANGI SS2", "", 500, 1800, 6},
	{"RESTORAN SRI MELAKA", "", 800, 2500, 5},
	{"KEDAI KOPI SENG HUAT", "", 400, 1600, 6},
	{"RESTORAN MAJU NASI KANDAR", "", 800, 2800, 5},
	{"AYAM PENYET BANGSAR", "", 1200, 3000, 3},
	{"MAMAK CORNER SS15", "", 400, 1500, 6},
	{"CENDOL BUNGA TANJUNG", "", 400, 1000, 2},
	{"KOPITIAM LIM TTDI", "", 500, 2200, 4},
	{"PASAR MALAM SETIAWANGSA", "", 500, 4000, 3},
	{"BAKERI ROTI HANGAT", "", 300, 1500, 3},
	{"KEDAI RUNCIT PAK ALI", "", 300, 3500, 4},
	{"ECONOMY RICE WAI KEE", "", 700, 1600, 4},
}

// foreignMerchant charges a credit card in another currency.
type foreignMerchant struct {
	name     string
	mcc      string
	currency string
	rate     float64 // MYR per unit
	min, max int64   // in the foreign currency's minor units
}

var foreignMerchants = []foreignMerchant{
	{"AMAZON.COM AMZN.COM/BILL", "5942", "USD", 4.25, 999, 12000},
	{"STEAM GAMES", "5816", "USD", 4.25, 499, 6999},
	{"AGODA.COM", "4722", "SGD", 3.30, 8000, 60000},
	{"DAISO SINGAPORE", "5331", "SGD", 3.30, 200, 3000},
	{"7-ELEVEN BANGKOK", "5499", "THB", 0.13, 3500, 60000},
	{"UNIQLO CENTRAL WORLD BANGKOK", "5651", "THB", 0.13, 59000, 399000},
	{"BOOKING.COM", "4722", "EUR", 4.85, 9000, 45000},
}

// biller is a JomPAY biller and how often and how much a household pays it.
type biller struct {
	name     string
	every    int // months between bills
	min, max int64
}

var billers = []biller{
	{"TENAGA NASIONAL BERHAD", 1, 8000, 38000},
	{"AIR SELANGOR", 1, 1800, 7500},
	{"UNIFI (TELEKOM MALAYSIA)", 1, 12900, 16900},
	{"MAXIS BROADBAND", 1, 9800, 16800},
	{"INDAH WATER KONSORTIUM", 3, 2400, 2400},
	{"ASTRO", 1, 10999, 15999},
}

// fpxMerchants are paid by FPX online banking.
var fpxMerchants = []merchant{
	{"SHOPEE", "", 1500, 30000, 6},
	{"LAZADA", "", 1500, 25000, 4},
	{"TOUCH 'N GO EWALLET", "", 2000, 20000, 5},
	{"GRABPAY", "", 2000, 15000, 3},
	{"BOOST", "", 1000, 10000, 1},
	{"PTPTN", "", 10000, 30000, 1},
	{"TAKAFUL MALAYSIA", "", 8000, 25000, 1},
	{"JABATAN PENGANGKUTAN JALAN (JPJ)", "", 2000, 9000, 1},
}

// atms are other banks' ATMs on the MEPS shared network.
var atms = []string{
	"CIMB SS15 SUBANG", "PUBLIC BANK MID VALLEY", "RHB KLCC", "HONG LEONG SS2",
	"AMBANK BANGSAR", "BANK ISLAM SHAH ALAM", "BSN KEPONG", "AFFIN PJ SENTRAL",
}

// people send and receive DuitNow transfers.
var people = []string{
	"AHMAD FAIZAL BIN OMAR", "LIM MEI LING", "SITI NURHALIZA BINTI HASSAN", "RAJESH A/L MURUGAN",
	"WONG KAH WAI", "NURUL IZZAH BINTI ZAINAL", "CHONG WEI JIAN", "KAVITHA A/P SUBRAMANIAM",
	"MUHAMMAD HAZIQ BIN ROSLI", "TAN SOO LING", "NG CHEE KEONG", "FARAH AQILAH BINTI YUSOF",
	"DEVI A/P RAMASAMY", "LEE JUN HAO", "ZULKIFLI BIN MAHMUD", "GOH PEI SHAN",
}

// transferNotes are what people type into a DuitNow transfer's reference.
var transferNotes = []string{
	"makan", "rent share", "thanks", "kopi", "grab share", "bill split", "birthday gift",
	"duit raya", "movie", "petrol", "groceries", "badminton court", "loan back", "wedding gift",
}

// employers pay salaries by IBG.
var employers = []string{
	"ACME TECHNOLOGIES SDN BHD", "SYARIKAT MAJU JAYA SDN BHD", "GLOBAL LOGISTICS (M) SDN BHD",
	"KL MEDICAL CENTRE SDN BHD", "NUSANTARA ENGINEERING BHD", "BERJAYA ANALYTICS SDN BHD",
}

// suppliers are paid by a small business owner.
var suppliers = []string{
	"SYARIKAT BORONG SEGAR", "KILANG TEPUNG HOCK SENG", "PEMBORONG TELUR AYAM MAJU",
	"PEKEBUN KECIL JOHOR ENTERPRISE", "PEMBUNGKUSAN KLANG SDN BHD",
}

// remitters send foreign-currency transfers.
var remitters = []string{
	"UPWORK GLOBAL INC", "STRIPE PAYMENTS SINGAPORE", "WISE PAYMENTS LTD", "ACME CONSULTING PTY LTD",
}

// monthNames are statement-style month abbreviations.
var monthNames = [...]string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}
