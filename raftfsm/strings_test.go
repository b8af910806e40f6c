package raftfsm

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// strStep is one command of a string test script: "|"-separated arguments
// and the expected show() rendering. The expected replies were recorded
// from redis-server 7.0.15. Pseudo-commands, run directly on the keyspace so
// the test does not depend on other type files: "_wrongtype key" stores a
// non-string value, "_exists key" and "_del key" reply (1)/(0).
type strStep struct{ line, want string }

func strRun(d *testDB, line string) string {
	d.t.Helper()
	args := strings.Split(line, "|")
	c := NewCtx(d.db, d.now, true, 1)
	switch args[0] {
	case "_wrongtype":
		s := newSet(1)
		s.d.Set("x", struct{}{})
		c.Set([]byte(args[1]), s)
		return ""
	case "_exists":
		return strBoolShow(c.Exists([]byte(args[1])))
	case "_del":
		return strBoolShow(c.Delete([]byte(args[1])))
	}
	return show(d.do(args...))
}

func strBoolShow(b bool) string {
	if b {
		return "(1)"
	}
	return "(0)"
}

// strTTL returns key's remaining time to live in ms, -1 without TTL and
// -2 when the key is missing, as PTTL does.
func strTTL(d *testDB, key string) int64 {
	at, ok := NewCtx(d.db, d.now, false, 1).Expiry([]byte(key))
	switch {
	case !ok:
		return -2
	case at == 0:
		return -1
	}
	return at - d.now
}

var strScripts = []struct {
	name  string
	steps []strStep
}{
	{"set_get", []strStep{
		{"set|k|v", "OK"},
		{"get|k", "v"},
		{"get|nokey", "<nil>"},
		{"set|k|", "OK"},
		{"get|k", ""},
		{"SET|k|V2", "OK"},
		{"GeT|k", "V2"},
		{"set|k|v|foo", "!ERR syntax error"},
		{"set|k|v|ex", "!ERR syntax error"},
		{"set|k|v|nx|xx", "!ERR syntax error"},
		{"set|k|v|xx|nx", "!ERR syntax error"},
	}},
	{"set_nx_xx_get", []strStep{
		{"set|k|1|xx", "<nil>"},
		{"get|k", "<nil>"},
		{"set|k|1|nx", "OK"},
		{"set|k|2|nx", "<nil>"},
		{"get|k", "1"},
		{"set|k|3|xx", "OK"},
		{"get|k", "3"},
		{"set|k|4|get", "3"},
		{"set|k|5|GET|XX", "4"},
		{"set|k2|x|get|xx", "<nil>"},
		{"_exists|k2", "(0)"},
		{"set|k2|x|get|nx", "<nil>"},
		{"set|k2|y|get|nx", "x"},
		{"get|k2", "x"},
		{"set|k|v|nx|nx", "<nil>"},
		{"set|k|v|get|get", "5"},
		{"set|k|v|xx|xx|get", "v"},
	}},
	{"set_wrongtype", []strStep{
		{"_wrongtype|l", ""},
		{"set|l|x|get", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"set|l|x|get|ex|0", "!ERR invalid expire time in 'set' command"},
		{"set|l|x|get|foo", "!ERR syntax error"},
		{"get|l", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"set|l|x|nx", "<nil>"},
		{"set|l|x|xx|get", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"set|l|y", "OK"},
		{"get|l", "y"},
	}},
	{"set_expire_errors", []strStep{
		{"set|k|v|ex|0", "!ERR invalid expire time in 'set' command"},
		{"set|k|v|ex|-1", "!ERR invalid expire time in 'set' command"},
		{"set|k|v|ex|abc", "!ERR value is not an integer or out of range"},
		{"set|k|v|ex|1.5", "!ERR value is not an integer or out of range"},
		{"set|k|v|px|0", "!ERR invalid expire time in 'set' command"},
		{"set|k|v|exat|0", "!ERR invalid expire time in 'set' command"},
		{"set|k|v|pxat|-5", "!ERR invalid expire time in 'set' command"},
		{"set|k|v|ex|9223372036854775807", "!ERR invalid expire time in 'set' command"},
		{"set|k|v|ex|9223372036854775", "!ERR invalid expire time in 'set' command"},
		{"set|k|v|px|9223372036854775807", "!ERR invalid expire time in 'set' command"},
		{"set|k|v|exat|9223372036854775", "OK"},
		{"set|k|v|exat|9223372036854776", "!ERR invalid expire time in 'set' command"},
		{"set|k|v|px|9223372036854775808", "!ERR value is not an integer or out of range"},
		{"_exists|k", "(1)"},
	}},
	{"set_option_conflicts", []strStep{
		{"set|k|v|ex|10|px|10", "!ERR syntax error"},
		{"set|k|v|ex|10|keepttl", "!ERR syntax error"},
		{"set|k|v|keepttl|ex|10", "!ERR syntax error"},
		{"set|k|v|keepttl|px|10", "!ERR syntax error"},
		{"set|k|v|keepttl|exat|10", "!ERR syntax error"},
		{"set|k|v|keepttl|pxat|10", "!ERR syntax error"},
		{"set|k|v|ex|10|exat|10", "!ERR syntax error"},
		{"set|k|v|pxat|10|px|1", "!ERR syntax error"},
		{"set|k|v|px|10|pxat|10", "!ERR syntax error"},
		{"set|k|v|exat|10|ex|10", "!ERR syntax error"},
		{"set|k|v|persist", "!ERR syntax error"},
		{"set|k|v|px", "!ERR syntax error"},
		{"set|k|v|ex|10|ex|20", "OK"},
		{"set|k|v|keepttl|keepttl", "OK"},
		{"set|k|v|Ex|100|Get", "v"},
		{"set|k|v|nx|ex|5|get", "v"},
		{"set|k|v|XX|PX|10000", "OK"},
	}},
	{"getex", []strStep{
		{"getex|nokey", "<nil>"},
		{"set|k|v", "OK"},
		{"getex|k", "v"},
		{"getex|k|persist", "v"},
		{"getex|k|nx", "!ERR syntax error"},
		{"getex|k|xx", "!ERR syntax error"},
		{"getex|k|get", "!ERR syntax error"},
		{"getex|k|keepttl", "!ERR syntax error"},
		{"getex|k|ex|10|persist", "!ERR syntax error"},
		{"getex|k|persist|ex|10", "!ERR syntax error"},
		{"getex|k|persist|persist", "v"},
		{"getex|k|ex|0", "!ERR invalid expire time in 'getex' command"},
		{"getex|nokey|ex|0", "<nil>"},
		{"getex|nokey|foo", "!ERR syntax error"},
		{"getex|k|ex", "!ERR syntax error"},
		{"getex|k|px|abc", "!ERR value is not an integer or out of range"},
		{"getex|k|ex|10|px|10", "!ERR syntax error"},
		{"getex|k|exat|10|pxat|10", "!ERR syntax error"},
		{"getex|k|ex|10|ex|20", "v"},
		{"getex|k|ex|9223372036854775807", "!ERR invalid expire time in 'getex' command"},
		{"_wrongtype|l", ""},
		{"getex|l", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"getex|l|ex|0", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"getex|k|exat|1", "v"},
		{"get|k", "<nil>"},
		{"_exists|k", "(0)"},
	}},
	{"getset_getdel", []strStep{
		{"getset|k|1", "<nil>"},
		{"getset|k|2", "1"},
		{"get|k", "2"},
		{"_wrongtype|l", ""},
		{"getset|l|1", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"getdel|k", "2"},
		{"getdel|k", "<nil>"},
		{"getdel|l", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"get|l", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
	}},
	{"mget_mset", []strStep{
		{"mset|a|1|b|2", "OK"},
		{"mget|a|b|c", "[1 2 <nil>]"},
		{"_wrongtype|l", ""},
		{"mget|a|l|b", "[1 <nil> 2]"},
		{"mset|a|1|b", "!ERR wrong number of arguments for 'mset' command"},
		{"mset|a|x|a|y", "OK"},
		{"get|a", "y"},
		{"mset|l|z", "OK"},
		{"get|l", "z"},
		{"msetnx|a|1", "(0)"},
		{"msetnx|n1|1|n2|2", "(1)"},
		{"mget|n1|n2", "[1 2]"},
		{"msetnx|n3|1|a|2", "(0)"},
		{"_exists|n3", "(0)"},
		{"msetnx|n4|x|n4|y", "(1)"},
		{"get|n4", "y"},
		{"msetnx|n5", "!ERR wrong number of arguments for 'msetnx' command"},
		{"msetnx|l2|1|l|2", "(0)"},
	}},
	{"setnx_setex_psetex", []strStep{
		{"setnx|k|1", "(1)"},
		{"setnx|k|2", "(0)"},
		{"get|k", "1"},
		{"setex|k|0|v", "!ERR invalid expire time in 'setex' command"},
		{"setex|k|-1|v", "!ERR invalid expire time in 'setex' command"},
		{"setex|k|x|v", "!ERR value is not an integer or out of range"},
		{"setex|k|10|v", "OK"},
		{"get|k", "v"},
		{"setex|k|9223372036854775807|v", "!ERR invalid expire time in 'setex' command"},
		{"psetex|k|0|v", "!ERR invalid expire time in 'psetex' command"},
		{"psetex|k|-1|v", "!ERR invalid expire time in 'psetex' command"},
		{"psetex|k|100|v2", "OK"},
		{"get|k", "v2"},
		{"psetex|k|9223372036854775807|v", "!ERR invalid expire time in 'psetex' command"},
		{"_wrongtype|l", ""},
		{"setnx|l|1", "(0)"},
		{"setex|l|10|v", "OK"},
		{"get|l", "v"},
	}},
	{"incr_decr", []strStep{
		{"incr|n", "(1)"},
		{"get|n", "1"},
		{"incr|n", "(2)"},
		{"decr|n", "(1)"},
		{"decr|n", "(0)"},
		{"decr|n", "(-1)"},
		{"incrby|n|5", "(4)"},
		{"decrby|n|3", "(1)"},
		{"incrby|n|-10", "(-9)"},
		{"decrby|n|-9223372036854775808", "!ERR decrement would overflow"},
		{"decrby|n|9223372036854775807", "!ERR increment or decrement would overflow"},
		{"incrby|n|x", "!ERR value is not an integer or out of range"},
		{"incrby|n|1.5", "!ERR value is not an integer or out of range"},
		{"incrby|n|9223372036854775808", "!ERR value is not an integer or out of range"},
		{"set|n|9223372036854775807", "OK"},
		{"incr|n", "!ERR increment or decrement would overflow"},
		{"incrby|n|0", "(9223372036854775807)"},
		{"set|n|-9223372036854775808", "OK"},
		{"decr|n", "!ERR increment or decrement would overflow"},
		{"incrby|n|-1", "!ERR increment or decrement would overflow"},
		{"set|n| 1", "OK"},
		{"incr|n", "!ERR value is not an integer or out of range"},
		{"set|n|1 ", "OK"},
		{"incr|n", "!ERR value is not an integer or out of range"},
		{"set|n|01", "OK"},
		{"incr|n", "!ERR value is not an integer or out of range"},
		{"set|n|+1", "OK"},
		{"incr|n", "!ERR value is not an integer or out of range"},
		{"set|n|1.0", "OK"},
		{"incr|n", "!ERR value is not an integer or out of range"},
		{"set|n|", "OK"},
		{"incr|n", "!ERR value is not an integer or out of range"},
		{"set|n|-0", "OK"},
		{"incr|n", "!ERR value is not an integer or out of range"},
		{"set|n|17179869184", "OK"},
		{"incrby|n|17179869184", "(34359738368)"},
		{"decrby|n|34359738369", "(-1)"},
		{"_wrongtype|l", ""},
		{"incr|l", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"decrby|l|1", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
	}},
	{"incrbyfloat", []strStep{
		{"incrbyfloat|f|1", "1"},
		{"incrbyfloat|f|0.25", "1.25"},
		{"get|f", "1.25"},
		{"set|f|10.50", "OK"},
		{"incrbyfloat|f|0.1", "10.6"},
		{"incrbyfloat|f|-5", "5.6"},
		{"set|f|1", "OK"},
		{"incrbyfloat|f|-1.1", "-0.1"},
		{"set|f|3.0e3", "OK"},
		{"incrbyfloat|f|0", "3000"},
		{"incrbyfloat|f|1e200", "100000000000000000002458586534161025661508068040050002887327500487325785432383926208372890736129198739813658147359652238566592960617854587787845326097835852628442219969983473365844529789269081145212928"},
		{"incrbyfloat|f|-1e200", "0"},
		{"set|f|1", "OK"},
		{"incrbyfloat|f|inf", "!ERR increment would produce NaN or Infinity"},
		{"incrbyfloat|f|+inf", "!ERR increment would produce NaN or Infinity"},
		{"incrbyfloat|f|-infinity", "!ERR increment would produce NaN or Infinity"},
		{"incrbyfloat|f|nan", "!ERR value is not a valid float"},
		{"incrbyfloat|f|1e5000", "!ERR value is not a valid float"},
		{"incrbyfloat|f|0x10", "17"},
		{"incrbyfloat|f|0x1.8p1", "20"},
		{"incrbyfloat|f|1p3", "!ERR value is not a valid float"},
		{"incrbyfloat|f|0x", "!ERR value is not a valid float"},
		{"incrbyfloat|f|.5", "20.5"},
		{"incrbyfloat|f|5.", "25.5"},
		{"incrbyfloat|f|.", "!ERR value is not a valid float"},
		{"incrbyfloat|f|1e", "!ERR value is not a valid float"},
		{"incrbyfloat|f|1e+2", "125.5"},
		{"incrbyfloat|f| 1", "!ERR value is not a valid float"},
		{"incrbyfloat|f|1 ", "!ERR value is not a valid float"},
		{"incrbyfloat|f|1_0", "!ERR value is not a valid float"},
		{"incrbyfloat|f|1e-400", "125.5"},
		{"incrbyfloat|f|1e-5000", "!ERR value is not a valid float"},
		{"incrbyfloat|f|", "!ERR value is not a valid float"},
		{"set|f|17179869184", "OK"},
		{"incrbyfloat|f|1.5", "17179869185.5"},
		{"set|f|17179869184", "OK"},
		{"incrbyfloat|f|17179869184", "34359738368"},
		{"set|f|0.1", "OK"},
		{"incrbyfloat|f|0.2", "0.3"},
		{"incrbyfloat|f|1e-17", "0.30000000000000001"},
		{"set|f|123456789012345678901234567890", "OK"},
		{"incrbyfloat|f|1", "123456789012345678899921813504"},
		{"set|f|1.7976931348623157e308", "OK"},
		{"incrbyfloat|f|1e308", "279769313486231570002352240441350078789299929179619934003987695617693370918830364684014944221042050987341155710361544171686148029276505307138777262321877129888036065002204239033812550598509174132739480498569620043582760541189365866551522561741435317031294527744011878159793174665688773926186886103199182225408"},
		{"set|f|1e4900", "OK"},
		{"incrbyfloat|f|1e4900", "20000000000000000000541662446138069966644810500815766869300586022391805703452138533327409646082874979531040368753218125263994345953050235926404062782530504558542239417574539652906106488526021909825968547256039383826048523020245626637638770765396624273231812229670270872894561518186243609077498187186193430067246217003025206939376613710716338360477674327025600723115459833219535144756175425299181980495846748565267894205213761214086615125889906163836710063086994760054372531773880001804405720593439492796025376365960856440489986026588164872241417498965900477167051618967260802375250071932241360531930113573235249212797580473360098396080068390131430274170889317103561050662039093836939991103862552296514416095940568084119075473803530251875207833455564421375112077061820330076599696530558467096573088696468560309175478171888856421178029515587473213263195046202962064177696411931249655521552672317871958904862800488715029852126197826020710088635593276153868210147126467716782515178038027292525863257589471011529422217713122238508926303968723755723764009260885944781696975916715835615091340273666842584675877805862257277399203160824583483201761246709801036630492216853235308625800803282991852294729048090857926036518240114803817471644697953476327269943902143097437749443462255893162907699184913402983247713125607257119899447298698333776842569539810552253241519788260089855289440277504168362367116650848442618713309755790942326744224556831958768753360403861879154396938721885280272560002787267778296737825569185714507358130231236944296702301575776656578339380126020042382845590158094442280678509893212507499637151770815955177688903661327150493742662471511276016455100131793456739284364870986015504738371139862508874644184392563581415689107684388360051805497485866153723298173087771922539473553264785002788183676971790481429050714764769746798829267083241861846614833141487484151287766783752621916151881997114765297011041793023117577045354890691022481316270285928056445577752889872106916884385858313066978981467514505584538294648465675947479286181704601737407481459167602890154432418299306916939321031487378647368520591259709118819061412174079501284357247378510726432698293720396536276202388081920458978439808527736506137515796515363967890381518939509287906711830720940150139250471072464532443970548028642513363749105680453023306936913254773672292128056104650248411970008865733938431925980074915205420859635401325855202874308189052261863872740825118555025908705381733477734747876498229494279038499091863761318654256532462233878439379400703568005059653501185197580350308201109322003213531645436263778582937301656201516531133519488269242899969472854451726384408128372066686281967724742651676736270046612832988118139177660183925243169517508859604727283388736020541681217259133951975336409367873714886799399529689041561123156867933538246257361533350794588574403970086522063606325574522531502717637653432123332165143935639973674274105501692602247238743857213383357233991308269802298985445149404998923811576823738442712958119740575919211734467666944185035828381361894121392979249091720127036744631845712337961649228296547325039474647639555465116028433649177055918982770340188357895050484356830452513450922314364493761735178681545600609584221577132894932586184316276800790145822820737834120749676035736400795379279461167363152343535267623173330177987303358920291509819515781065884783959672428129732913835429415314315220329851500501892775480484969533966170469083060336964079162789283329961612445498822574904362550032187152165184444141435616615276040690198717839767177101092301888488754673518568559082067813172156360804995054445737537660364966066788083251377091001702519754922307775736631636786292217378766451035385306259885100826420945746057796919600237570901580083436841360271969530398496888986780026626166410469320185284833401980565960710617401160077540951737584685610722572890291319229632447787180006783418936628241037723200042340515510758477934170783423709505518499050754605627059681113263180784447197922986894961157860074087516098838613213262811325521041526278530202116185165283966250162196268618752880775518899179303376219483176185285921477795899494314264243441107192252410328285287288333797953021491282746781885476836421857186702324774206861944487593450657816803629016744302642361499278534790557928578648304079765561065122130701205812030630612891179729721591802714256186166895137967169158369891222420892467513803800316171981285182356593442653077948921079111013959589595646141621686417243426952755926481694736858708744425446531753487981382074029343367259181815096471165417477825474174968506565197518794169340828828094391205455347122857227731286417154397702795428191436018029359613099431789445953146697940631523461415767019981237178155401500192832474285728235292147814957958988281685665643421551983040530013231173687917102195741888518046386838991357725352366949286020815486509487271904492450682233693492626849792"},
		{"set|f|-0.0", "OK"},
		{"incrbyfloat|f|0", "0"},
		{"set|f|5", "OK"},
		{"incrbyfloat|f|-5", "0"},
		{"set|f|1.23456789", "OK"},
		{"incrbyfloat|f|9.87654321", "11.1111111"},
		{"incrbyfloat|f|1e-10", "11.1111111001"},
		{"incrbyfloat|f|-3.33333333333333333333", "7.77777776676666667"},
		{"incrbyfloat|f|0.000000000000000001", "7.77777776676666667"},
		{"incrbyfloat|f|0.00000000000000001", "7.77777776676666668"},
		{"set|f|2", "OK"},
		{"incrbyfloat|f|0.000003814697265625", "2.00000381469726562"},
		{"set|f|inf", "OK"},
		{"incrbyfloat|f|1", "!ERR increment would produce NaN or Infinity"},
		{"set|f|abc", "OK"},
		{"incrbyfloat|f|1", "!ERR value is not a valid float"},
		{"set|f|1", "OK"},
		{"setrange|f|2|2", "(3)"},
		{"incrbyfloat|f|1", "!ERR value is not a valid float"},
		{"_del|f", "(1)"},
		{"incrbyfloat|f|0.024390243902439025", "0.02439024390243902"},
		{"incrbyfloat|f|-0.024390243902439025", "0"},
		{"get|f", "0"},
		{"_wrongtype|l", ""},
		{"incrbyfloat|l|1", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
	}},
	{"append_strlen", []strStep{
		{"append|a|hello", "(5)"},
		{"append|a| world", "(11)"},
		{"get|a", "hello world"},
		{"strlen|a", "(11)"},
		{"strlen|nokey", "(0)"},
		{"append|a|", "(11)"},
		{"set|n|-555", "OK"},
		{"strlen|n", "(4)"},
		{"append|n|1", "(5)"},
		{"get|n", "-5551"},
		{"_wrongtype|l", ""},
		{"append|l|x", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"strlen|l", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
	}},
	{"getrange", []strStep{
		{"set|a|Hello World", "OK"},
		{"getrange|a|0|3", "Hell"},
		{"getrange|a|0|-1", "Hello World"},
		{"getrange|a|-4|-1", "orld"},
		{"getrange|a|5|3", ""},
		{"getrange|a|5|5000", " World"},
		{"getrange|a|-5000|10000", "Hello World"},
		{"getrange|a|-1|-5", ""},
		{"getrange|a|0|4294967297", "Hello World"},
		{"getrange|nokey|0|-1", ""},
		{"getrange|a|x|1", "!ERR value is not an integer or out of range"},
		{"getrange|a|1|x", "!ERR value is not an integer or out of range"},
		{"getrange|nokey|x|1", "!ERR value is not an integer or out of range"},
		{"substr|a|1|2", "el"},
		{"set|e|", "OK"},
		{"getrange|e|0|-1", ""},
		{"getrange|e|-1|0", ""},
		{"set|n|1234", "OK"},
		{"getrange|n|0|2", "123"},
		{"getrange|n|-3|-1", "234"},
		{"getrange|n|3|5000", "4"},
		{"_wrongtype|l", ""},
		{"getrange|l|0|1", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"getrange|l|x|1", "!ERR value is not an integer or out of range"},
	}},
	{"setrange", []strStep{
		{"setrange|k|0|foo", "(3)"},
		{"get|k", "foo"},
		{"setrange|k2|0|", "(0)"},
		{"_exists|k2", "(0)"},
		{"setrange|k3|1|foo", "(4)"},
		{"get|k3", "\x00foo"},
		{"set|k|foo", "OK"},
		{"setrange|k|0|b", "(3)"},
		{"get|k", "boo"},
		{"setrange|k|0|", "(3)"},
		{"setrange|k|1|b", "(3)"},
		{"get|k", "bbo"},
		{"setrange|k|4|bar", "(7)"},
		{"get|k", "bbo\x00bar"},
		{"setrange|k|-1|x", "!ERR offset is out of range"},
		{"setrange|k|x|y", "!ERR value is not an integer or out of range"},
		{"setrange|k|536870908|world", "!ERR string exceeds maximum allowed size (proto-max-bulk-len)"},
		{"setrange|k4|536870908|world", "!ERR string exceeds maximum allowed size (proto-max-bulk-len)"},
		{"setrange|k|9223372036854775807|A", "!ERR string exceeds maximum allowed size (proto-max-bulk-len)"},
		{"setrange|k|2147483647|A", "!ERR string exceeds maximum allowed size (proto-max-bulk-len)"},
		{"setrange|k|9223372036854775807|", "(7)"},
		{"setrange|k5|536870912|", "(0)"},
		{"_exists|k5", "(0)"},
		{"_wrongtype|l", ""},
		{"setrange|l|0|x", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"setrange|l|0|", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"setrange|l|-1|", "!ERR offset is out of range"},
	}},
	{"setbit_getbit", []strStep{
		{"setbit|b|1|1", "(0)"},
		{"get|b", "@"},
		{"setbit|b|1|0", "(1)"},
		{"get|b", "\x00"},
		{"setbit|b|-1|1", "!ERR bit offset is not an integer or out of range"},
		{"setbit|b|4294967296|1", "!ERR bit offset is not an integer or out of range"},
		{"setbit|b|4294967295|x", "!ERR bit is not an integer or out of range"},
		{"setbit|b|0|2", "!ERR bit is not an integer or out of range"},
		{"setbit|b|0|-1", "!ERR bit is not an integer or out of range"},
		{"setbit|b|0|10", "!ERR bit is not an integer or out of range"},
		{"setbit|b|x|1", "!ERR bit offset is not an integer or out of range"},
		{"set|b|@", "OK"},
		{"setbit|b|2|1", "(0)"},
		{"get|b", "`"},
		{"setbit|b|1|0", "(1)"},
		{"get|b", " "},
		{"set|b|1", "OK"},
		{"setbit|b|6|1", "(0)"},
		{"get|b", "3"},
		{"setbit|b|2|0", "(1)"},
		{"get|b", "\x13"},
		{"setbit|b|23|1", "(0)"},
		{"get|b", "\x13\x00\x01"},
		{"set|g|`", "OK"},
		{"getbit|g|0", "(0)"},
		{"getbit|g|1", "(1)"},
		{"getbit|g|2", "(1)"},
		{"getbit|g|3", "(0)"},
		{"getbit|g|8", "(0)"},
		{"getbit|g|10000", "(0)"},
		{"getbit|nokey|0", "(0)"},
		{"getbit|g|-1", "!ERR bit offset is not an integer or out of range"},
		{"getbit|g|x", "!ERR bit offset is not an integer or out of range"},
		{"getbit|g|4294967296", "!ERR bit offset is not an integer or out of range"},
		{"_wrongtype|l", ""},
		{"setbit|l|0|1", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"getbit|l|0", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"getbit|l|x", "!ERR bit offset is not an integer or out of range"},
	}},
	{"bitcount", []strStep{
		{"set|bc|foobar", "OK"},
		{"bitcount|bc", "(26)"},
		{"bitcount|bc|0|0", "(4)"},
		{"bitcount|bc|1|1", "(6)"},
		{"bitcount|bc|1|1|byte", "(6)"},
		{"bitcount|bc|1|1|BIT", "(1)"},
		{"bitcount|bc|5|30|bit", "(17)"},
		{"bitcount|bc|-3|-1|bit", "(1)"},
		{"bitcount|bc|0", "!ERR syntax error"},
		{"bitcount|bc|0|1|foo", "!ERR syntax error"},
		{"bitcount|bc|0|1|bit|x", "!ERR syntax error"},
		{"bitcount|bc|-1|-5", "(0)"},
		{"bitcount|bc|-1|-5|foo", "(0)"},
		{"bitcount|bc|a|b", "!ERR value is not an integer or out of range"},
		{"bitcount|nokey|a", "(0)"},
		{"bitcount|nokey", "(0)"},
		{"bitcount|bc|0|-1|bit", "(26)"},
		{"bitcount|bc|7|100|bit", "(22)"},
		{"bitcount|bc|-100|100", "(26)"},
		{"bitcount|bc|3|2", "(0)"},
		{"set|e|", "OK"},
		{"bitcount|e", "(0)"},
		{"bitcount|e|0|-1", "(0)"},
		{"_wrongtype|l", ""},
		{"bitcount|l", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"bitcount|l|x", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
	}},
	{"bitpos", []strStep{
		{"set|bp|\xff\xf0\x00", "OK"},
		{"bitpos|bp|0", "(12)"},
		{"bitpos|bp|1", "(0)"},
		{"bitpos|bp|1|2", "(-1)"},
		{"bitpos|bp|0|1|1", "(12)"},
		{"bitpos|bp|0|2|-1|byte", "(16)"},
		{"bitpos|bp|1|7|15|bit", "(7)"},
		{"bitpos|bp|0|0|7|bit", "(-1)"},
		{"bitpos|bp|0|0|-1|bit", "(12)"},
		{"bitpos|bp|0|0|11|bit", "(-1)"},
		{"bitpos|bp|0|0|12|bit", "(12)"},
		{"bitpos|bp|1|12|bit", "!ERR value is not an integer or out of range"},
		{"set|bp|\xff\xff\xff", "OK"},
		{"bitpos|bp|0", "(24)"},
		{"bitpos|bp|0|1", "(24)"},
		{"bitpos|bp|0|1|-1", "(-1)"},
		{"bitpos|bp|0|3|-1|bit", "(-1)"},
		{"bitpos|bp|0|3|bit", "!ERR value is not an integer or out of range"},
		{"bitpos|bp|1|3|bit", "!ERR value is not an integer or out of range"},
		{"bitpos|bp|2", "!ERR The bit argument must be 1 or 0."},
		{"bitpos|bp|-1", "!ERR The bit argument must be 1 or 0."},
		{"bitpos|nokey|1", "(-1)"},
		{"bitpos|nokey|0", "(0)"},
		{"bitpos|nokey|0|x", "(0)"},
		{"bitpos|nokey|2", "!ERR The bit argument must be 1 or 0."},
		{"bitpos|bp|1|x", "!ERR value is not an integer or out of range"},
		{"bitpos|bp|1|0|x", "!ERR value is not an integer or out of range"},
		{"bitpos|bp|1|0|1|foo", "!ERR syntax error"},
		{"bitpos|bp|1|0|1|bit|x", "!ERR syntax error"},
		{"bitpos|bp|x", "!ERR value is not an integer or out of range"},
		{"set|e|", "OK"},
		{"bitpos|e|0", "(-1)"},
		{"bitpos|e|1", "(-1)"},
		{"bitpos|e|0|0", "(-1)"},
		{"bitpos|e|0|0|-1|bit", "(-1)"},
		{"set|bp|\x00\x00\x00", "OK"},
		{"bitpos|bp|1", "(-1)"},
		{"bitpos|bp|0|5|bit", "!ERR value is not an integer or out of range"},
		{"bitpos|bp|0|5|6|bit", "(5)"},
		{"bitpos|bp|1|-1|-1|bit", "(-1)"},
		{"bitpos|bp|1|10|4|bit", "(-1)"},
		{"bitpos|bp|0|-1", "(16)"},
		{"bitpos|bp|1|0|-1", "(-1)"},
		{"set|bp|\x00\x01\x80", "OK"},
		{"bitpos|bp|1", "(15)"},
		{"bitpos|bp|1|2", "(16)"},
		{"bitpos|bp|1|16|16|bit", "(16)"},
		{"bitpos|bp|1|0|14|bit", "(-1)"},
		{"bitpos|bp|0|15|15|bit", "(-1)"},
		{"_wrongtype|l", ""},
		{"bitpos|l|1", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"bitpos|l|2", "!ERR The bit argument must be 1 or 0."},
	}},
	{"lcs", []strStep{
		{"set|a|ohmytext", "OK"},
		{"set|b|mynewtext", "OK"},
		{"lcs|a|b", "mytext"},
		{"lcs|a|b|len", "(6)"},
		{"lcs|a|b|LEN", "(6)"},
		{"lcs|a|b|idx", "[matches [[[(4) (7)] [(5) (8)]] [[(2) (3)] [(0) (1)]]] len (6)]"},
		{"lcs|a|b|idx|withmatchlen", "[matches [[[(4) (7)] [(5) (8)] (4)] [[(2) (3)] [(0) (1)] (2)]] len (6)]"},
		{"lcs|a|b|idx|minmatchlen|4|withmatchlen", "[matches [[[(4) (7)] [(5) (8)] (4)]] len (6)]"},
		{"lcs|a|b|idx|len", "!ERR If you want both the length and indexes, please just use IDX."},
		{"lcs|a|b|len|idx", "!ERR If you want both the length and indexes, please just use IDX."},
		{"lcs|a|b|minmatchlen", "!ERR syntax error"},
		{"lcs|a|b|minmatchlen|x", "!ERR value is not an integer or out of range"},
		{"lcs|a|b|foo", "!ERR syntax error"},
		{"lcs|nokey|b", ""},
		{"lcs|nokey|nokey2|idx", "[matches [] len (0)]"},
		{"lcs|nokey|nokey2|len", "(0)"},
		{"lcs|a|b|minmatchlen|-1|idx", "[matches [[[(4) (7)] [(5) (8)]] [[(2) (3)] [(0) (1)]]] len (6)]"},
		{"lcs|a|b|withmatchlen", "mytext"},
		{"lcs|a|a|idx|withmatchlen", "[matches [[[(0) (7)] [(0) (7)] (8)]] len (8)]"},
		{"_wrongtype|l", ""},
		{"lcs|a|l", "!ERR The specified keys must contain string values"},
		{"lcs|l|a", "!ERR The specified keys must contain string values"},
		{"lcs|l|nokey|foo", "!ERR The specified keys must contain string values"},
	}},
}

func TestStringScripts(t *testing.T) {
	for _, sc := range strScripts {
		t.Run(sc.name, func(t *testing.T) {
			d := newTestDB(t)
			for _, st := range sc.steps {
				if got := strRun(d, st.line); got != st.want {
					t.Fatalf("%q: got %q, want %q", st.line, got, st.want)
				}
			}
		})
	}
}

func TestStringExpiry(t *testing.T) {
	type check struct {
		key string
		ttl int64 // expected strTTL
	}
	tests := []struct {
		name    string
		setup   []string // steps before the clock moves
		advance int64
		after   []strStep // steps after the clock moved
		ttls    []check
	}{
		{name: "set ex", setup: []string{"set|k|v|ex|10"}, advance: 9999,
			after: []strStep{{"get|k", "v"}}, ttls: []check{{"k", 1}}},
		{name: "set ex expires", setup: []string{"set|k|v|EX|10"}, advance: 10000,
			after: []strStep{{"get|k", "<nil>"}, {"_exists|k", "(0)"}}},
		{name: "set px", setup: []string{"set|k|v|px|1500"}, advance: 1000,
			ttls: []check{{"k", 500}}},
		{name: "set exat", setup: []string{"set|k|v|exat|1700000010"}, advance: 5000,
			ttls: []check{{"k", 5000}}},
		{name: "set pxat", setup: []string{"set|k|v|pxat|1700000000500"},
			ttls: []check{{"k", 500}}},
		{name: "set pxat in the past stores an expired key", setup: []string{"set|k|v|pxat|1600000000000"},
			after: []strStep{{"get|k", "<nil>"}}, ttls: []check{{"k", -2}}},
		{name: "plain set clears ttl", setup: []string{"set|k|v|ex|10", "set|k|v2"}, advance: 20000,
			after: []strStep{{"get|k", "v2"}}, ttls: []check{{"k", -1}}},
		{name: "set keepttl", setup: []string{"set|k|v|ex|10", "set|k|v2|keepttl"}, advance: 4000,
			after: []strStep{{"get|k", "v2"}}, ttls: []check{{"k", 6000}}},
		{name: "set xx px", setup: []string{"set|k|val", "set|k|bar|xx|px|10000"},
			ttls: []check{{"k", 10000}}},
		{name: "set nx against expired key", setup: []string{"set|k|old|px|100"}, advance: 100,
			after: []strStep{{"set|k|new|nx", "OK"}, {"get|k", "new"}}, ttls: []check{{"k", -1}}},
		{name: "set get returns nil for expired", setup: []string{"set|k|old|px|100"}, advance: 200,
			after: []strStep{{"set|k|new|get", "<nil>"}, {"get|k", "new"}}},
		{name: "setnx against expired key", setup: []string{"set|k|10|ex|1"}, advance: 2000,
			after: []strStep{{"setnx|k|20", "(1)"}, {"get|k", "20"}}},
		{name: "setnx against volatile key", setup: []string{"set|k|10|ex|10000"}, advance: 2000,
			after: []strStep{{"setnx|k|20", "(0)"}, {"get|k", "10"}}},
		{name: "setex", setup: []string{"setex|k|10|v"}, advance: 3000, ttls: []check{{"k", 7000}}},
		{name: "psetex", setup: []string{"psetex|k|100|v"}, advance: 100,
			after: []strStep{{"get|k", "<nil>"}}},
		{name: "getset clears ttl", setup: []string{"set|k|v|ex|10"},
			after: []strStep{{"getset|k|w", "v"}}, ttls: []check{{"k", -1}}},
		{name: "getex ex", setup: []string{"set|k|v"},
			after: []strStep{{"getex|k|ex|10", "v"}}, ttls: []check{{"k", 10000}}},
		{name: "getex px", setup: []string{"set|k|v"},
			after: []strStep{{"getex|k|px|10000", "v"}}, ttls: []check{{"k", 10000}}},
		{name: "getex exat", setup: []string{"set|k|v"},
			after: []strStep{{"getex|k|exat|1700000010", "v"}}, ttls: []check{{"k", 10000}}},
		{name: "getex pxat", setup: []string{"set|k|v"},
			after: []strStep{{"getex|k|pxat|1700000010000", "v"}}, ttls: []check{{"k", 10000}}},
		{name: "getex pxat now deletes", setup: []string{"set|k|v"},
			after: []strStep{{"getex|k|pxat|1700000000000", "v"}, {"_exists|k", "(0)"}}},
		{name: "getex persist", setup: []string{"set|k|v|ex|10"},
			after: []strStep{{"getex|k|persist", "v"}}, ttls: []check{{"k", -1}}},
		{name: "getex no option keeps ttl", setup: []string{"set|k|v|ex|10"},
			after: []strStep{{"getex|k", "v"}}, ttls: []check{{"k", 10000}}},
		{name: "getex on expired key", setup: []string{"set|k|v|px|5"}, advance: 5,
			after: []strStep{{"getex|k|persist", "<nil>"}}},
		{name: "getdel", setup: []string{"set|k|v|ex|10"},
			after: []strStep{{"getdel|k", "v"}, {"_exists|k", "(0)"}}},
		{name: "incr keeps ttl", setup: []string{"set|k|1|ex|10"}, advance: 1000,
			after: []strStep{{"incr|k", "(2)"}, {"incrbyfloat|k|0.5", "2.5"}}, ttls: []check{{"k", 9000}}},
		{name: "incr on expired key starts at zero", setup: []string{"set|k|41|px|10"}, advance: 10,
			after: []strStep{{"incr|k", "(1)"}}, ttls: []check{{"k", -1}}},
		{name: "append setrange setbit keep ttl", setup: []string{"set|k|ab|ex|10"},
			after: []strStep{{"append|k|cd", "(4)"}, {"setrange|k|1|X", "(4)"}, {"setbit|k|0|1", "(0)"}, {"get|k", "\xe1Xcd"}},
			ttls:  []check{{"k", 10000}}},
		{name: "append on expired key", setup: []string{"set|k|old|px|10"}, advance: 10,
			after: []strStep{{"append|k|new", "(3)"}, {"get|k", "new"}}, ttls: []check{{"k", -1}}},
		{name: "mset clears ttl", setup: []string{"set|a|1|ex|10", "mset|a|2|b|3"},
			ttls: []check{{"a", -1}, {"b", -1}}},
		{name: "msetnx treats expired keys as missing", setup: []string{"set|a|1|px|10"}, advance: 10,
			after: []strStep{{"msetnx|a|2|b|3", "(1)"}, {"mget|a|b", "[2 3]"}}},
		{name: "mget skips expired", setup: []string{"set|a|1|px|10", "set|b|2"}, advance: 10,
			after: []strStep{{"mget|a|b", "[<nil> 2]"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newTestDB(t)
			for _, line := range tt.setup {
				if got := strRun(d, line); strings.HasPrefix(got, "!") {
					t.Fatalf("setup %q: %s", line, got)
				}
			}
			d.advance(tt.advance)
			for _, st := range tt.after {
				if got := strRun(d, st.line); got != st.want {
					t.Fatalf("%q: got %q, want %q", st.line, got, st.want)
				}
			}
			for _, ck := range tt.ttls {
				if got := strTTL(d, ck.key); got != ck.ttl {
					t.Fatalf("ttl %s: got %d, want %d", ck.key, got, ck.ttl)
				}
			}
		})
	}
}

// An expired key is invisible to reads, and reads never delete it (only a
// log entry may).
func TestStringExpiredRead(t *testing.T) {
	d := newTestDB(t)
	d.expect("OK", "SET", "k", "v", "PX", "10")
	d.advance(10)
	for _, args := range [][]string{{"GET", "k"}, {"STRLEN", "k"}, {"MGET", "k"}, {"GETRANGE", "k", "0", "-1"}, {"GETBIT", "k", "0"}, {"BITCOUNT", "k"}} {
		got := show(d.read(args...))
		if got != "<nil>" && got != "(0)" && got != "" && got != "[<nil>]" {
			t.Fatalf("%v: got %q", args, got)
		}
	}
	if d.db.Len() != 1 {
		t.Fatalf("read deleted the expired key")
	}
}

func TestStringWriteOutsideLog(t *testing.T) {
	d := newTestDB(t)
	for _, args := range [][]string{{"SET", "k", "v"}, {"GETEX", "k"}, {"INCR", "k"}, {"APPEND", "k", "x"}, {"SETBIT", "k", "0", "1"}} {
		if r := d.read(args...); !r.IsError() {
			t.Fatalf("%v ran outside the log: %s", args, show(r))
		}
	}
}

func TestStringArity(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"GET"}, "!ERR wrong number of arguments for 'get' command"},
		{[]string{"GET", "a", "b"}, "!ERR wrong number of arguments for 'get' command"},
		{[]string{"SET", "a"}, "!ERR wrong number of arguments for 'set' command"},
		{[]string{"GETEX"}, "!ERR wrong number of arguments for 'getex' command"},
		{[]string{"SETEX", "a", "1"}, "!ERR wrong number of arguments for 'setex' command"},
		{[]string{"MSET", "a"}, "!ERR wrong number of arguments for 'mset' command"},
		{[]string{"MSET", "a", "1", "b"}, "!ERR wrong number of arguments for 'mset' command"},
		{[]string{"MSETNX", "a", "1", "b"}, "!ERR wrong number of arguments for 'msetnx' command"},
		{[]string{"LCS", "a"}, "!ERR wrong number of arguments for 'lcs' command"},
		{[]string{"BITPOS", "a"}, "!ERR wrong number of arguments for 'bitpos' command"},
		{[]string{"SUBSTR", "a", "1"}, "!ERR wrong number of arguments for 'substr' command"},
	}
	for _, tt := range tests {
		d := newTestDB(t)
		d.expect(tt.want, tt.args...)
	}
}

func TestStringCommandTable(t *testing.T) {
	tests := []struct {
		name              string
		arity             int
		flags             Flag
		first, last, step int
	}{
		{"get", 2, FlagReadOnly | FlagFast, 1, 1, 1},
		{"set", -3, FlagWrite | FlagDenyOOM, 1, 1, 1},
		{"getex", -2, FlagWrite | FlagFast, 1, 1, 1},
		{"getdel", 2, FlagWrite | FlagFast, 1, 1, 1},
		{"mget", -2, FlagReadOnly | FlagFast, 1, -1, 1},
		{"mset", -3, FlagWrite | FlagDenyOOM, 1, -1, 2},
		{"msetnx", -3, FlagWrite | FlagDenyOOM, 1, -1, 2},
		{"incrbyfloat", 3, FlagWrite | FlagDenyOOM | FlagFast, 1, 1, 1},
		{"getrange", 4, FlagReadOnly, 1, 1, 1},
		{"substr", 4, FlagReadOnly, 1, 1, 1},
		{"lcs", -3, FlagReadOnly, 1, 2, 1},
		{"setbit", 4, FlagWrite | FlagDenyOOM, 1, 1, 1},
		{"bitpos", -3, FlagReadOnly, 1, 1, 1},
	}
	for _, tt := range tests {
		cmd := Lookup([]byte(strings.ToUpper(tt.name)))
		if cmd == nil {
			t.Fatalf("%s not registered", tt.name)
		}
		if cmd.Arity != tt.arity || cmd.Flags != tt.flags || cmd.First != tt.first || cmd.Last != tt.last || cmd.Step != tt.step {
			t.Errorf("%s: got %+v", tt.name, *cmd)
		}
	}
	mset := Lookup([]byte("mset"))
	pos := mset.KeyPositions([][]byte{[]byte("mset"), []byte("a"), []byte("1"), []byte("b"), []byte("2")})
	if !deepEqual(pos, []int{1, 3}) {
		t.Fatalf("mset keys: %v", pos)
	}
}

// Replies alias stored bytes, so no command may change a stored string in
// place: every earlier GET reply must keep its value.
func TestStringRepliesStayValid(t *testing.T) {
	d := newTestDB(t)
	type held struct{ reply, want string }
	var hs []held
	get := func() {
		r := d.do("GET", "k")
		hs = append(hs, held{r.Str, strings.Clone(r.Str)})
	}
	d.expect("OK", "SET", "k", "abc")
	get()
	for i := 0; i < 50; i++ {
		d.do("APPEND", "k", strconv.Itoa(i))
		get()
	}
	d.do("SETRANGE", "k", "1", "ZZ")
	get()
	d.do("SETBIT", "k", "3", "1")
	get()
	d.do("SETBIT", "k", "3", "0")
	get()
	d.expect("OK", "SET", "k", "41")
	get()
	d.do("INCR", "k")
	get()
	d.do("INCRBYFLOAT", "k", "0.5")
	get()
	d.do("GETEX", "k", "PXAT", "1")
	for i, h := range hs {
		if h.reply != h.want {
			t.Fatalf("reply %d changed from %q to %q", i, h.want, h.reply)
		}
	}
}

// APPEND reuses spare capacity: a long run of appends gives the right value.
func TestStringAppendMany(t *testing.T) {
	d := newTestDB(t)
	var want strings.Builder
	for i := 0; i < 2000; i++ {
		s := strconv.Itoa(i) + ","
		want.WriteString(s)
		if got := d.do("APPEND", "k", s); got.Int != int64(want.Len()) {
			t.Fatalf("append %d: len %d, want %d", i, got.Int, want.Len())
		}
	}
	if got := d.do("GET", "k").Str; got != want.String() {
		t.Fatalf("value mismatch")
	}
}

// strModelBit is bit i of s (MSB first), 0 past the end.
func strModelBit(s string, i int64) int64 {
	if i>>3 >= int64(len(s)) {
		return 0
	}
	return int64(s[i>>3]>>(7-uint(i&7))) & 1
}

// strModelRange is the inclusive bit range BITCOUNT/BITPOS cover, computed
// the slow and obvious way from the Redis documentation.
func strModelRange(n int, start, end int64, isBit bool) (int64, int64) {
	total := int64(n)
	if isBit {
		total *= 8
	}
	if start < 0 {
		start = max(start+total, 0)
	}
	if end < 0 {
		end = max(end+total, 0)
	}
	end = min(end, total-1)
	if !isBit {
		start, end = start*8, end*8+7
	}
	return start, end
}

func TestStringBitFuzz(t *testing.T) {
	d := newTestDB(t)
	rng := rand.New(rand.NewPCG(1, 2))
	model := []byte{}
	for i := 0; i < 2000; i++ {
		off := rng.IntN(256 * 8)
		val := rng.IntN(2)
		for len(model) <= off>>3 {
			model = append(model, 0)
		}
		prev := int64(model[off>>3]>>(7-uint(off&7))) & 1
		if val == 1 {
			model[off>>3] |= 1 << (7 - uint(off&7))
		} else {
			model[off>>3] &^= 1 << (7 - uint(off&7))
		}
		d.expect("("+strconv.FormatInt(prev, 10)+")", "SETBIT", "k", strconv.Itoa(off), strconv.Itoa(val))
		if i%100 == 0 {
			d.expect(string(model), "GET", "k")
		}
	}
	s := string(model)
	d.expect(s, "GET", "k")
	for i := 0; i < 3000; i++ {
		n := int64(len(s))
		isBit := rng.IntN(2) == 0
		lim := n
		if isBit {
			lim *= 8
		}
		start, end := rng.Int64N(3*lim)-int64(1.5*float64(lim)), rng.Int64N(3*lim)-int64(1.5*float64(lim))
		unit := "BYTE"
		if isBit {
			unit = "BIT"
		}
		sb, eb := strModelRange(len(s), start, end, isBit)
		// BITCOUNT
		want := int64(0)
		if !(start < 0 && end < 0 && start > end) {
			for b := sb; b <= eb; b++ {
				want += strModelBit(s, b)
			}
		}
		args := []string{"BITCOUNT", "k", strconv.FormatInt(start, 10), strconv.FormatInt(end, 10), unit}
		if got := d.read(args...); got.Int != want {
			t.Fatalf("%v: got %d, want %d", args, got.Int, want)
		}
		// BITPOS with an explicit end: -1 when the bit is not in the range.
		for bit := int64(0); bit <= 1; bit++ {
			want := int64(-1)
			for b := sb; b <= eb; b++ {
				if strModelBit(s, b) == bit {
					want = b
					break
				}
			}
			args := []string{"BITPOS", "k", strconv.FormatInt(bit, 10), strconv.FormatInt(start, 10), strconv.FormatInt(end, 10), unit}
			if got := d.read(args...); got.Int != want {
				t.Fatalf("%v: got %d, want %d", args, got.Int, want)
			}
		}
	}
	// GETBIT agrees with the model everywhere, including past the end.
	for i := int64(0); i < int64(len(s))*8+40; i++ {
		d.expect("("+strconv.FormatInt(strModelBit(s, i), 10)+")", "GETBIT", "k", strconv.FormatInt(i, 10))
	}
}

func TestStringGetrangeFuzz(t *testing.T) {
	d := newTestDB(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 1000; i++ {
		b := make([]byte, rng.IntN(1024))
		for j := range b {
			b[j] = byte(rng.IntN(256))
		}
		s := string(b)
		d.expect("OK", "SET", "bin", s)
		start, end := rng.IntN(3000)-1500, rng.IntN(3000)-1500
		// Tcl's [string range] semantics after Redis's negative-index rules.
		n := len(s)
		want := ""
		if !(start < 0 && end < 0 && start > end) {
			st, en := start, end
			if st < 0 {
				st = max(st+n, 0)
			}
			if en < 0 {
				en = max(en+n, 0)
			}
			en = min(en, n-1)
			if st <= en && n > 0 {
				want = s[st : en+1]
			}
		}
		if got := d.read("GETRANGE", "bin", strconv.Itoa(start), strconv.Itoa(end)); got.Str != want || got.Kind != KindBulk {
			t.Fatalf("GETRANGE %d %d of %d bytes: got %q, want %q", start, end, n, got.Str, want)
		}
	}
}

func TestStringSetrangeFuzz(t *testing.T) {
	d := newTestDB(t)
	rng := rand.New(rand.NewPCG(5, 6))
	var model []byte
	for i := 0; i < 500; i++ {
		off := rng.IntN(200)
		val := strings.Repeat(string(rune('a'+rng.IntN(26))), rng.IntN(10))
		if len(val) > 0 {
			for len(model) < off+len(val) {
				model = append(model, 0)
			}
			copy(model[off:], val)
		}
		d.expect("("+strconv.Itoa(len(model))+")", "SETRANGE", "k", strconv.Itoa(off), val)
	}
	d.expect(string(model), "GET", "k")
}

// The LCS tests of Redis's string.tcl.
func TestStringLCSRedis(t *testing.T) {
	const rna1 = "CACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTTCGTCCGGGTGTG"
	const rna2 = "ATTAAAGGTTTATACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTT"
	const rnalcs = "ACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTT"
	d := newTestDB(t)
	d.expect("OK", "SET", "virus1{t}", rna1)
	d.expect("OK", "SET", "virus2{t}", rna2)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"LCS", "virus1{t}", "virus2{t}"}, rnalcs},
		{[]string{"LCS", "virus1{t}", "virus2{t}", "LEN"}, "(" + strconv.Itoa(len(rnalcs)) + ")"},
		{[]string{"LCS", "virus1{t}", "virus2{t}", "IDX"},
			"[matches [[[(238) (238)] [(239) (239)]] [[(236) (236)] [(238) (238)]] [[(229) (230)] [(236) (237)]] [[(224) (224)] [(235) (235)]] [[(1) (222)] [(13) (234)]]] len (227)]"},
		{[]string{"LCS", "virus1{t}", "virus2{t}", "IDX", "WITHMATCHLEN"},
			"[matches [[[(238) (238)] [(239) (239)] (1)] [[(236) (236)] [(238) (238)] (1)] [[(229) (230)] [(236) (237)] (2)] [[(224) (224)] [(235) (235)] (1)] [[(1) (222)] [(13) (234)] (222)]] len (227)]"},
		{[]string{"LCS", "virus1{t}", "virus2{t}", "IDX", "WITHMATCHLEN", "MINMATCHLEN", "5"},
			"[matches [[[(1) (222)] [(13) (234)] (222)]] len (227)]"},
	}
	for _, tt := range tests {
		if got := show(d.read(tt.args...)); got != tt.want {
			t.Errorf("%v: got %s, want %s", tt.args[3:], got, tt.want)
		}
	}
	if r := d.read("LCS", "virus1{t}", "virus2{t}", "IDX"); r.Kind != KindMap {
		t.Fatalf("LCS IDX is a map in RESP3, got kind %d", r.Kind)
	}
}

func TestStringLongDouble(t *testing.T) {
	tests := []struct{ in, want string }{
		{"10.5", "10.5"}, {"3.0e3", "3000"}, {"-0.0", "0"}, {"0.1", "0.1"}, {"1e-20", "0"}, {"-1e-20", "0"},
		{"17179869185.5", "17179869185.5"}, {"0x10", "16"}, {"1.5e+2", "150"}, {"5.", "5"}, {".5", "0.5"},
	}
	for _, tt := range tests {
		f, ok := strParseLongDouble([]byte(tt.in))
		if !ok {
			t.Fatalf("%q did not parse", tt.in)
		}
		if got := string(strFormatLongDouble(f)); got != tt.want {
			t.Errorf("%q: got %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"", " 1", "1 ", "nan", "NaN", "1e5000", "-1e5000", "1e-5000", "1p3", "0x", "1_0", "abc", "1\x002", "e5", ".", "+", "--1"} {
		if _, ok := strParseLongDouble([]byte(bad)); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func BenchmarkStringSetGet(b *testing.B) {
	db := NewDB()
	set := [][]byte{[]byte("SET"), []byte("key:000000001"), []byte("xxx")}
	get := [][]byte{[]byte("GET"), []byte("key:000000001")}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Exec(NewCtx(db, 1, true, 0), set)
		Exec(NewCtx(db, 1, false, 0), get)
	}
}

// Two keys may share one *strValue (COPY clones strings by sharing them).
// APPEND to either must not show up in the other, even though both see
// the same spare capacity.
func TestStringAppendShared(t *testing.T) {
	d := newTestDB(t)
	d.expect("OK", "SET", "a", "start")
	for i := 0; i < 5; i++ {
		d.do("APPEND", "a", "-grow")
	}
	c := NewCtx(d.db, d.now, true, 1)
	c.Set([]byte("b"), c.Get([]byte("a")).Clone())
	base := "start" + strings.Repeat("-grow", 5)
	d.expect("(31)", "APPEND", "a", "X")
	d.expect("(31)", "APPEND", "b", "Y")
	d.expect("(33)", "APPEND", "b", "YY")
	d.expect("(32)", "APPEND", "a", "X")
	d.expect(base+"XX", "GET", "a")
	d.expect(base+"YYY", "GET", "b")
	// The shared original grows by copying, the latest result in place.
	d.expect("OK", "SET", "c", "v")
	d.do("APPEND", "c", "1")
	p1 := unsafeData(d, "c")
	d.do("APPEND", "c", "2")
	if unsafeData(d, "c") != p1 {
		t.Fatalf("second APPEND reallocated instead of reusing capacity")
	}
	d.expect("v12", "GET", "c")
}

func unsafeData(d *testDB, key string) *byte {
	v := NewCtx(d.db, d.now, false, 1).Get([]byte(key)).(*strValue)
	return &v.b[0]
}
