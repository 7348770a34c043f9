// fixmux-qf-user: a FIX user written the way a fixmux customer would write one, with QuickFIX
// C++ (Debian libquickfix-dev). It logs on to fixmux as a configured user (Username/Password
// in the Logon, added in toAdmin), sends NewOrderSingles at a given rate and writes down what
// it sent and every ExecutionReport it got, so that a test script can do the accounting.
//
//   fixmux-qf-user --dir DIR --host A --port P --user NAME --target SESSION
//                  --password-file F [--orders N] [--rate R] [--prefix P]
//
// DIR holds the QuickFIX FileStore (so a restarted user resumes its sequence numbers, as a
// real one does) and three logs, one line per event, flushed at once:
//   sent.log    ClOrdID of each NewOrderSingle handed to QuickFIX while logged on
//   er.log      ClOrdID ExecID OrdStatus PossDupFlag(Y|N) of each ExecutionReport
//   events.log  "logon", "logout <Text(58)>" (the Logout's reason, if any), "er <ClOrdID>
//               <OrdStatus>" (in order with the rest), "app <MsgType>" for other messages
// and the file "sent.done" once N orders are sent. Orders are sent only while logged on; one
// handed over just before a disconnect is in QuickFIX's store and is resent (PossDupFlag=Y)
// when fixmux asks for it. The initiator reconnects by itself (ReconnectInterval=1).
// SIGTERM/SIGINT: QuickFIX logs out and the program exits 0.
#include <quickfix/Application.h>
#include <quickfix/FileLog.h>
#include <quickfix/FileStore.h>
#include <quickfix/Message.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketInitiator.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <time.h>
#include <unistd.h>

static volatile std::sig_atomic_t stop_flag;
static void on_signal(int) { stop_flag = 1; }

static FILE *open_log(const std::string &path)
{
	FILE *f = std::fopen(path.c_str(), "a");
	if (!f) {
		std::perror(path.c_str());
		std::exit(1);
	}
	return f;
}

class User : public FIX::Application {
public:
	std::string user, password;
	FILE *er_log = nullptr, *events = nullptr;
	std::mutex mu;
	std::atomic<bool> logged_on{false};

	void onCreate(const FIX::SessionID &) override {}
	void onLogon(const FIX::SessionID &) override
	{
		logged_on = true;
		line(events, "logon");
	}
	void onLogout(const FIX::SessionID &) override { logged_on = false; }
	void toAdmin(FIX::Message &m, const FIX::SessionID &) override
	{
		if (m.getHeader().getField(FIX::FIELD::MsgType) == "A") {
			m.setField(553, user);
			m.setField(554, password);
		}
	}
	void toApp(FIX::Message &, const FIX::SessionID &) throw(FIX::DoNotSend) override {}
	void fromAdmin(const FIX::Message &m, const FIX::SessionID &)
		throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
		       FIX::RejectLogon) override
	{
		if (m.getHeader().getField(FIX::FIELD::MsgType) == "5")
			line(events, "logout " + (m.isSetField(58) ? m.getField(58) : std::string()));
	}
	void fromApp(const FIX::Message &m, const FIX::SessionID &)
		throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
		       FIX::UnsupportedMessageType) override
	{
		const FIX::Header &h = m.getHeader();
		if (h.getField(FIX::FIELD::MsgType) != "8") {
			line(events, "app " + h.getField(FIX::FIELD::MsgType));
			return;
		}
		bool dup = h.isSetField(43) && h.getField(43) == "Y";
		// Also in events.log, to tell which reports came before a Logout.
		line(events, "er " + m.getField(11) + " " + m.getField(39));
		line(er_log, m.getField(11) + " " + m.getField(17) + " " + m.getField(39) + " " +
				     (dup ? "Y" : "N"));
	}

	void line(FILE *f, const std::string &s)
	{
		std::lock_guard<std::mutex> g(mu);
		std::fprintf(f, "%s\n", s.c_str());
		std::fflush(f);
	}
};

static void sleep_ns(long ns)
{
	struct timespec ts = {ns / 1000000000L, ns % 1000000000L};
	nanosleep(&ts, nullptr);
}

int main(int argc, char **argv)
{
	std::string dir, host, port, user, target, pwfile, prefix;
	long orders = 0, rate = 100;
	for (int i = 1; i + 1 < argc; i += 2) {
		std::string k = argv[i], v = argv[i + 1];
		if (k == "--dir") dir = v;
		else if (k == "--host") host = v;
		else if (k == "--port") port = v;
		else if (k == "--user") user = v;
		else if (k == "--target") target = v;
		else if (k == "--password-file") pwfile = v;
		else if (k == "--orders") orders = std::atol(v.c_str());
		else if (k == "--rate") rate = std::atol(v.c_str());
		else if (k == "--prefix") prefix = v;
		else { std::fprintf(stderr, "fixmux-qf-user: unknown option %s\n", k.c_str()); return 2; }
	}
	if (dir.empty() || host.empty() || port.empty() || user.empty() || target.empty() ||
	    pwfile.empty() || rate < 1 || orders < 0) {
		std::fprintf(stderr, "usage: fixmux-qf-user --dir DIR --host A --port P --user NAME "
				     "--target SESSION --password-file F [--orders N] [--rate R] "
				     "[--prefix P]\n");
		return 2;
	}
	if (prefix.empty())
		prefix = user;
	User app;
	app.user = user;
	std::ifstream pw(pwfile);
	std::getline(pw, app.password);
	app.er_log = open_log(dir + "/er.log");
	app.events = open_log(dir + "/events.log");
	FILE *sent = open_log(dir + "/sent.log");

	std::ostringstream ini;
	ini << "[DEFAULT]\nConnectionType=initiator\nStartTime=00:00:00\nEndTime=00:00:00\n"
	       "HeartBtInt=5\nReconnectInterval=1\nUseDataDictionary=N\nSocketNodelay=Y\n"
	       "FileStorePath=" << dir << "/store\nFileLogPath=" << dir << "/log\n"
	       "CheckLatency=N\nLogoutTimeout=5\n"
	       "[SESSION]\nBeginString=FIX.4.4\nSenderCompID=" << user << "\nTargetCompID="
	    << target << "\nSocketConnectHost=" << host << "\nSocketConnectPort=" << port << "\n";
	std::signal(SIGTERM, on_signal);
	std::signal(SIGINT, on_signal);
	try {
		std::istringstream is(ini.str());
		FIX::SessionSettings settings(is);
		FIX::FileStoreFactory store(settings);
		FIX::FileLogFactory logs(settings);
		FIX::SocketInitiator initiator(app, store, settings, logs);
		FIX::SessionID sid("FIX.4.4", user, target);
		initiator.start();
		long n = 0;
		const long gap = 1000000000L / rate;
		while (!stop_flag) {
			if (n < orders && app.logged_on) {
				char id[96];
				std::snprintf(id, sizeof(id), "%s-%06ld", prefix.c_str(), n + 1);
				FIX::Message m;
				m.getHeader().setField(FIX::FIELD::MsgType, "D");
				m.setField(11, id);
				m.setField(21, "1");
				m.setField(55, "EUR/USD");
				m.setField(54, n % 2 ? "2" : "1");
				m.setField(60, FIX::UtcTimeStampConvertor::convert(FIX::UtcTimeStamp(), 3));
				m.setField(38, "1000");
				m.setField(40, "2");
				m.setField(44, "1.1");
				// Written before the send: an order QuickFIX takes is in its store from
				// then on, and fixmux must deliver it exactly once whatever happens next.
				std::fprintf(sent, "%s\n", id);
				std::fflush(sent);
				FIX::Session::sendToTarget(m, sid);
				if (++n == orders)
					std::fclose(std::fopen((dir + "/sent.done").c_str(), "w"));
				sleep_ns(gap);
			} else {
				sleep_ns(10000000L);
			}
		}
		initiator.stop();
	} catch (std::exception &e) {
		std::fprintf(stderr, "fixmux-qf-user: %s\n", e.what());
		return 1;
	}
	return 0;
}
