"""Dev-split templates of the issue-28 English set (slots: see generate.py). The held-out split's templates are
in heldout_templates.py and share no id, setting wording or seed with these."""

US = ["US"]


def T(tid: str, kind: str, text: str, countries: list[str] | None = None) -> dict:
    return {"id": f"dev-{tid}", "kind": kind, "text": text, "countries": countries}


TEMPLATES = [
    T("form-01", "form", """
Patient registration
Full name: {NAME}
Date of birth: {DOB}
Address: {ADDRESS}
Phone: {PHONE}
Email: {EMAIL}
Visit reason: follow-up, {QTY} days after discharge"""),
    T("form-02", "form", """
NEW ACCOUNT APPLICATION
Applicant: {LAST_FIRST}
DOB {DOB}   SSN {SSN}
Residential address:
{ADDRESS_ML}
Mobile {PHONE} | Alt. {PHONE:2}""", US),
    T("form-03", "form", """
Name | {NAME}
Email | {EMAIL}
Telephone | {PHONE}
Country of residence | {COUNTRY}
Preferred contact time | {TIME}"""),
    T("form-04", "form", """
Membership renewal #{ORDER}: {NAME}, born {DOB}, of {CITY_REGION}. Card on file {CARD}, expiring in {YEARS} months. Amount due {PRICE}."""),
    T("letter-01", "letter", """
{NAME}
{ADDRESS_ML}

{DATE}

Dear {FIRST},

Thank you for your application to {COMPANY}. We would like to invite you to an interview on {DATE:2} at {TIME}. Please confirm by calling {PHONE} or replying to {EMAIL:2}.

Kind regards,
{NAME:2}
Recruitment Team"""),
    T("letter-02", "letter", """
Dear Mr {LAST},

Further to our conversation on {DATE}, I confirm that the tenancy of {ADDRESS} will end on {DATE:2}. The deposit of {PRICE} will be returned to the account IBAN {IBAN} within {YEARS} working days.

Yours sincerely,
{NAME:2}"""),
    T("letter-03", "letter", """
To whom it may concern,

I have known {NAME} since {DATE}, when {FIRST} joined our team in {CITY}. I recommend {FIRST} without reservation. You can reach me on {PHONE} if you need anything further.

{NAME:2}, Head of Operations, {COMPANY}"""),
    T("chat-01", "chat", """
[{TIME}] {FIRST}: hey, did the parcel arrive?
[{TIME:2}] {FIRST:2}: not yet. can you send it to my new place? {ADDRESS}
[{TIME:3}] {FIRST}: sure. best number for the driver?
[{TIME:4}] {FIRST:2}: {PHONE:2}"""),
    T("chat-02", "chat", """
agent: Thanks for holding. Can I get the name on the account?
customer: {NAME}
agent: And the date of birth?
customer: {DOB}
agent: Great, and the last address we have is {ADDRESS}. Still correct?
customer: no, I moved to {CITY:2} last month"""),
    T("chat-03", "chat", """
{LOWER_FIRST}: omg I'm in {CITY} this weekend!! want to meet?
{LOWER_FIRST:2}: yesss. call me {PHONE:2}
{LOWER_FIRST}: ok see you at {TIME}"""),
    T("chat-04", "chat", """
User: My card {CARD} was charged twice for order {ORDER}. It's in the name of {NAME}.
Bot: I'm sorry about that. I've opened ticket {TICKET}. A refund of {PRICE} will show within {YEARS} days."""),
    T("ticket-01", "ticket", """
Ticket {TICKET} | Priority: high
Reporter: {NAME} <{EMAIL}>
Summary: Login fails after upgrade to {VERSION}
Details: Since {DATE} the customer cannot sign in from IP {IP}. Call back on {PHONE}."""),
    T("ticket-02", "ticket", """
Customer {NAME} ({EMAIL}) says the installer for version {VERSION} hangs at {PERCENT}. They are based in {CITY}, {COUNTRY}. Last successful login {DATE} from {IP}."""),
    T("ticket-03", "ticket", """
RMA request {ORDER}
Ship replacement to: {NAME}, {ADDRESS}
Contact: {PHONE}
Serial / part: {SKU}
Purchased: {DATE}"""),
    T("cv-01", "cv", """
{UPPER_NAME}
{ADDRESS} · {PHONE} · {EMAIL}
{URL}

EXPERIENCE
Senior Analyst, {COMPANY}, {CITY} ({YEARS} years)
Data Engineer, {COMPANY:2}, {CITY:2}, {COUNTRY:2}

Born {DOB}. References available on request."""),
    T("cv-02", "cv", """
Curriculum Vitae — {NAME}
Date of birth: {DOB}   Nationality: {FOREIGN_COUNTRY}
Contact: {EMAIL} / {PHONE}
Portfolio: {URL}
2019–2024  Nurse, {COMPANY}, {CITY_REGION}"""),
    T("email-01", "email", """
From: {NAME} <{EMAIL}>
To: {NAME:2} <{EMAIL:2}>
Subject: Saturday

Hi {FIRST:2},
We land at {TIME} on {DATE}. Could you pick us up? Our hotel is at {ADDRESS}. My roaming number is {PHONE_ANY}.
Cheers, {FIRST}"""),
    T("email-02", "email", """
Hello {FIRST},

Please find attached invoice {ORDER} for {PRICE}. Payment to IBAN {IBAN} (account holder {NAME:2}) by {DATE}.

Best,
{NAME:2}
{PHONE:2}"""),
    T("email-03", "email", """
Hi team, {NAME} starts on {DATE}. Their desk is room {ROOM}. Personal email for the welcome pack: {EMAIL}. Home address for the laptop courier: {ADDRESS}."""),
    T("ship-01", "shipping", """
SHIP TO:
{NAME}
{ADDRESS_ML}
Tel: {PHONE}
Tracking {TRACKING} | {QTY} items | weight {MEASURE}"""),
    T("ship-02", "shipping", """
Delivery note: leave with neighbour at {STREET} if {FIRST} is out. Recipient phone {PHONE}. Order {ORDER}, {QTY} boxes."""),
    T("ship-03", "shipping", """
Consignee: {NAME}, {ADDRESS}. Notify party: {NAME:2}, {PHONE:2}. Port of loading {CITY:3}. HS code {SKU}."""),
    T("med-01", "medical", """
INTAKE NOTE {DATE}
Pt: {NAME}, DOB {DOB}, MRN {ID}
Lives at {ADDRESS} with spouse {NAME:2} (emergency contact, {PHONE:2}).
BP {MEASURE}. Allergies: none known."""),
    T("med-02", "medical", """
Referral: {INITIAL_LAST}, D.O.B. {DOB}. Seen at clinic on {DATE} for chest pain, dose {MEASURE}. Please contact the patient on {PHONE} to book."""),
    T("med-03", "medical", """
Insurance claim
Member name: {NAME}
Member SSN: {SSN}
Date of service: {DATE}
Provider address: {ADDRESS:2}
Billed amount: {PRICE}""", US),
    T("hr-01", "hr", """
Employee record {ID}
Name: {NAME}
Date of birth: {DOB}
Home address: {ADDRESS}
Emergency contact: {NAME:2} ({PHONE})
Bank: IBAN {IBAN}
Start date: {DATE}"""),
    T("hr-02", "hr", """
W-4 / payroll update for {NAME}, SSN {SSN}, effective {DATE}. New mailing address: {ADDRESS}. Direct line {PHONE}.""", US),
    T("hr-03", "hr", """
Exit interview, {DATE}. {NAME} ({YEARS} years in the {COMPANY} office in {CITY}) is relocating to {CITY:2}, {COUNTRY:2}. Forwarding address: {ADDRESS:3}."""),
    T("bank-01", "bank", """
Transfer confirmation: {PRICE} sent from {NAME} (IBAN {IBAN}) to {NAME:2} (IBAN {IBAN:2}) on {DATE}. Reference {ORDER}."""),
    T("bank-02", "bank", """
Fraud alert for {NAME}: a payment of {PRICE} with card {CARD} was attempted from IP address {IP} on {DATE} at {TIME}. If this was not you, call us back from {PHONE}."""),
    T("travel-01", "travel", """
Booking {ORDER} confirmed for {NAME} and {NAME:2}. Check-in {DATE}, check-out {DATE:2}. Guest address: {ADDRESS}. Contact {EMAIL}, {PHONE}."""),
    T("travel-02", "travel", """
Passenger {UPPER_NAME}, born {DOB}, travelling from {CITY} to {CITY:2}, {FOREIGN_COUNTRY}. Seat {ROOM}. Mobile {PHONE_ANY}."""),
    T("estate-01", "real-estate", """
Viewing request: {NAME} would like to see the flat at {ADDRESS} on {DATE}. Best reached at {PHONE} or {EMAIL}. Budget {PRICE} per month."""),
    T("legal-01", "legal", """
This agreement is made on {DATE} between {NAME}, residing at {ADDRESS}, and {NAME:2}, residing at {ADDRESS:2}. Notices shall be sent by e-mail to {EMAIL} and {EMAIL:2}."""),
    T("log-01", "log", """
{TIME} INFO login ok user={EMAIL} ip={IP} client={VERSION}
{TIME:2} WARN password reset requested for {EMAIL} from {IP:2}"""),
    T("review-01", "review", """
Great stay! Our host {FIRST} met us at the door of {STREET} in {CITY} and gave us her number ({PHONE}) in case of trouble. {PERCENT} recommended."""),
    T("social-01", "social", """
Happy birthday to my amazing sister {NAME}, born {DOB}! Come celebrate at our place, {ADDRESS}, from {TIME}. RSVP {PHONE}."""),
    T("school-01", "school", """
Enrolment form: pupil {NAME}, date of birth {DOB}. Parent/guardian: {NAME:2}, {PHONE:2}, {EMAIL:2}. Home: {ADDRESS}."""),
    T("survey-01", "form", """
Q1. Your name: {NAME}
Q2. City: {CITY}
Q3. Country: {COUNTRY}
Q4. How many times did you use the app last week? {QTY}
Q5. May we contact you at {EMAIL}? yes"""),
    T("support-01", "ticket", """
Hi, I'm {NAME}. I ordered a blender ({SKU}) on {DATE} but it was sent to my old address, {ADDRESS}. My new one is {ADDRESS:2}. Phone: {PHONE}"""),
    # running prose: no field labels before the values
    T("prose-01", "letter", """
I grew up in {CITY}, {COUNTRY}, and moved to {CITY:2} after university. These days I share a flat with {NAME} at {ADDRESS}, so if the post goes missing, that's where it went."""),
    T("prose-02", "chat", """
so {FIRST} finally called back lol. she's staying with her aunt in {CITY} until {DATE} and said to text her on {PHONE} if anything comes up"""),
    T("prose-03", "email", """
Hi both, quick update: {NAME} signed the lease for {ADDRESS} yesterday and moves in on {DATE}. {FIRST} asked me to pass on the new number, {PHONE}, and said the old landline is gone."""),
    T("prose-04", "social", """
Throwback to {DATE}, when {NAME} and I drove from {CITY} to {CITY:2} in one go. Still can't believe we made it to {COUNTRY:2} on one tank."""),
    T("prose-05", "ticket", """
Caller said her name was {NAME}, born {DOB}, and that she had been living at {ADDRESS} since {DATE}. She wants the statements sent there rather than to her mother's house on {STREET:2}."""),
    T("prose-06", "letter", """
My grandfather, {NAME}, was born on {DOB} in a small village outside {CITY}. He emigrated to {FOREIGN_COUNTRY} when he was {YEARS} and never went back."""),
    T("prose-07", "chat", """
ya the party is at {FIRST}'s, {STREET}, ring twice. if u get lost call {PHONE} or ask for {NAME:2}"""),
    T("prose-08", "medical", """
{NAME} is a {YEARS}-year-old carpenter from {CITY} who presented on {DATE} with back pain. Lives alone at {ADDRESS}; daughter {FIRST:2} ({PHONE:2}) is the main contact."""),
    T("prose-09", "hr", """
Following our call I can confirm that {NAME} will relocate from our office in {CITY} to {CITY:2}, {COUNTRY:2} on {DATE}, and that the company will cover the move to {ADDRESS:2}."""),
    T("prose-10", "review", """
Ordered on {DATE}, arrived three weeks later at my place in {CITY}. The courier ({FIRST}) called me on {PHONE} from the wrong street. Two stars."""),
    # texts without PII: numbers, codes, prices and times only
    T("neg-01", "negative", """
A train leaves at {TIME} and travels at {QTY} km/h. A second train leaves {YEARS} hours later at {QTY:2} km/h. How long until the second train catches up?"""),
    T("neg-02", "negative", """
Release notes {VERSION}: fixed a crash when importing more than {QTY} rows; memory use down {PERCENT}. Upgrade from {VERSION:2} is automatic."""),
    T("neg-03", "negative", """
Product {SKU}: stainless steel, {MEASURE}, pack of {QTY}. Price {PRICE}, now {PERCENT} off. Order reference {ORDER}."""),
    T("neg-04", "negative", """
Meeting notes: budget approved ({PRICE}); deployment window {TIME}-{TIME:2}; ticket {TICKET} closed; next review in {YEARS} weeks."""),
    T("neg-05", "negative", """
Recipe: mix {QTY} g flour with {MEASURE} of milk, bake at {QTY:2} degrees for {YEARS} minutes. Serves {QTY:3}."""),
    T("neg-06", "negative", """
Your order {ORDER} has shipped. Tracking {TRACKING}. Items: {QTY} x {SKU}. Total {PRICE}. Estimated delivery within {YEARS} days."""),
    T("neg-07", "negative", """
If a shop sells {QTY} notebooks at {PRICE} each and gives a discount of {PERCENT} on orders over {QTY:2}, what is the total for {QTY:3} notebooks?"""),
    T("neg-08", "negative", """
Server build {VERSION} passed {QTY} of {QTY:2} tests in {TIME}. Coverage {PERCENT}. Artifact {SKU} uploaded to the registry."""),
]
