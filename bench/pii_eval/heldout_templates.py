"""Held-out templates of the issue-28 English set: FROZEN. Run the bench on them once per change and never tune
on them. Other settings, wording and seed than dev_templates.py; no template id is shared."""

US = ["US"]


def T(tid: str, kind: str, text: str, countries: list[str] | None = None) -> dict:
    return {"id": f"heldout-{tid}", "kind": kind, "text": text, "countries": countries}


TEMPLATES = [
    T("claim-01", "form", """
MOTOR CLAIM FORM
Policyholder ........ {NAME}
Born ................ {DOB}
Postal address ...... {ADDRESS}
Daytime tel. ........ {PHONE}
Incident date ....... {DATE}
Other driver ........ {NAME:2}, {PHONE:2}
Vehicle reg / VIN ... {SKU}"""),
    T("vet-01", "form", """
Pet: Biscuit (dog, {YEARS} yrs, {MEASURE})
Owner: {NAME}
Owner address: {ADDRESS_ML}
Owner phone: {PHONE}
Next vaccination due {DATE}"""),
    T("gym-01", "form", """
Welcome to the club, {FIRST}! Your membership {ID} starts {DATE}. We have you down as {NAME}, born {DOB}, living at {ADDRESS}. Direct debit from IBAN {IBAN}, {PRICE} a month."""),
    T("rental-01", "form", """
Car hire agreement {ORDER}
Renter: {UPPER_NAME}   Licence issued in {FOREIGN_COUNTRY}
Date of birth {DOB}
Local address while in {COUNTRY}: {ADDRESS}
Card pre-authorised: {CARD} ({PRICE})"""),
    T("visa-01", "form", """
Visa application — section 2
Surname / given names: {LAST_FIRST}
Date and place of birth: {DOB}, {CITY:2}
Current residential address: {ADDRESS_ML}
E-mail: {EMAIL}
Telephone (incl. country code): {PHONE_ANY}"""),
    T("tenancy-01", "form", """
Tenancy application. Applicant 1: {NAME} (DOB {DOB}). Applicant 2: {NAME:2} (DOB {DOB:2}). Current address: {ADDRESS}, for {YEARS} years. Previous landlord's number: {PHONE}."""),
    T("hotel-01", "form", """
Registration card — room {ROOM}
Guest: {NAME}
Home address: {ADDRESS}
Nationality: {FOREIGN_COUNTRY}
Arrival {DATE}  Departure {DATE:2}
Signature: ____________"""),
    T("customs-01", "shipping", """
CN23 customs declaration
Sender: {NAME}, {ADDRESS}, tel {PHONE}
Addressee: {NAME:2}, {ADDRESS:2}
Contents: {QTY} books, value {PRICE}
Date: {DATE}"""),
    T("courier-01", "shipping", """
Your driver is on the way! Delivering parcel {TRACKING} to {FIRST} at {ADDRESS} between {TIME} and {TIME:2}. Not home? Reply to this text from {PHONE} to reschedule."""),
    T("moving-01", "shipping", """
Moving quote for {NAME}: pick-up {ADDRESS_ML}
drop-off {ADDRESS_ML:2}
on {DATE}, {QTY} cubic metres, {PRICE} incl. VAT. Call {PHONE} on the day."""),
    T("sms-01", "chat", """
> Mum: where r u
> {FIRST}: at {NAME:2}'s, {STREET}
> Mum: ok. her mum's number?
> {FIRST}: {PHONE}"""),
    T("whatsapp-01", "chat", """
[{DATE}, {TIME}] {NAME}: new flat is {ADDRESS} 🎉
[{DATE}, {TIME:2}] {NAME:2}: congrats!! when's the party
[{DATE}, {TIME:3}] {NAME}: {DATE:2}, bring snacks"""),
    T("slack-01", "chat", """
@{LOWER_FIRST} can you update the customer record? {NAME:2} called, new phone {PHONE:2}, new email {EMAIL:2}. thx"""),
    T("voicemail-01", "chat", """
Voicemail transcript ({TIME}): "Hi, this is {NAME} calling about the flat on {STREET}. My number is {PHONE}, that's {PHONE}. Thanks, bye." """),
    T("delivery-chat-01", "chat", """
Rider: I'm outside, which door?
Customer: {ADDRESS}, the blue door. buzz {QTY}
Rider: no answer, calling {PHONE}
Customer: sorry coming down — {FIRST}"""),
    T("forum-01", "social", """
Selling my bike, barely used ({PRICE}). Pick up only from {CITY_REGION}. Text {FIRST} on {PHONE} or email {EMAIL}, no time-wasters please."""),
    T("dating-01", "social", """
{FIRST}, {YEARS} · lives in {CITY}, {COUNTRY} · originally from {FOREIGN_COUNTRY}. Insta: {URL}"""),
    T("birth-01", "social", """
We are thrilled to announce the arrival of our daughter, born {DOB} at {TIME}, {MEASURE}. Love, {NAME} and {NAME:2}, {CITY}."""),
    T("obit-01", "social", """
{NAME}, born {DOB} in {CITY}, {FOREIGN_COUNTRY}, died peacefully on {DATE}. Condolences may be sent to the family at {ADDRESS}."""),
    T("github-01", "log", """
Steps to reproduce: run the CLI {VERSION} against our staging box at {IP}. Trace attached. Contact: {NAME} <{EMAIL}>, {URL}
Error appeared first on {DATE}."""),
    T("access-01", "log", """
{IP} - - [{DATE} {TIME}] "POST /account/update HTTP/1.1" 200 {QTY} email={EMAIL}&phone={PHONE}"""),
    T("crm-01", "export", """
id,name,email,phone,city,country,signup
{ID},{NAME},{EMAIL},{PHONE},{CITY},{COUNTRY},{DATE}
{ID:2},{NAME:2},{EMAIL:2},{PHONE:2},{CITY:2},{COUNTRY:2},{DATE:2}"""),
    T("vcard-01", "export", """
BEGIN:VCARD
FN:{NAME}
TEL;TYPE=cell:{PHONE}
EMAIL:{EMAIL}
ADR;TYPE=home:{ADDRESS}
BDAY:{DOB}
END:VCARD"""),
    T("minutes-01", "letter", """
Minutes of the residents' association, {DATE}. Present: {NAME}, {NAME:2}, {NAME:3}. {FIRST:2} reported a leak at {ADDRESS}. Next meeting {DATE:2} at {TIME}."""),
    T("tax-01", "letter", """
Dear {NAME},
Our records show a balance of {PRICE} for tax year {YEARS}. Taxpayer SSN: {SSN}. Mailing address on file: {ADDRESS_ML}
Please respond by {DATE}.""", US),
    T("jury-01", "letter", """
SUMMONS FOR JURY SERVICE. {UPPER_NAME}, {ADDRESS}: you are required to appear on {DATE} at {TIME}. Juror number {ID}. Questions: call the clerk from your phone on file ({PHONE}).""", US),
    T("school-report-01", "letter", """
End-of-year report for {NAME} (born {DOB}). Attendance {PERCENT}. Parents: {NAME:2} and {NAME:3}, {ADDRESS}. Class teacher: Ms {LAST:4}."""),
    T("alumni-01", "letter", """
Class notes: {NAME} ('{YEARS}) married {NAME:2} on {DATE} in {CITY}, {COUNTRY}. They now live in {CITY:2} and would love to hear from classmates at {EMAIL}."""),
    T("donation-01", "bank", """
Receipt {ORDER}. Thank you, {NAME}, for your gift of {PRICE} received on {DATE} by card ending in {QTY} — full card {CARD} has been removed from our system. Address for tax purposes: {ADDRESS}."""),
    T("payslip-01", "hr", """
PAYSLIP {DATE}
Employee: {NAME}  No. {ID}
SSN: {SSN}
Net pay {PRICE} to account ending {QTY}
Address: {ADDRESS}""", US),
    T("background-01", "hr", """
Background check for {NAME} (DOB {DOB}, SSN {SSN}). Previous addresses: {ADDRESS}; {ADDRESS:2}. Reference: {NAME:2}, {PHONE:2}.""", US),
    T("onboarding-01", "hr", """
New starter checklist — {NAME}
☐ Laptop to {ADDRESS}
☐ Salary account IBAN {IBAN}
☐ Emergency contact {NAME:2} {PHONE:2}
☐ Start {DATE}"""),
    T("bio-01", "cv", """
About me: I'm {NAME}, a product designer based in {CITY}. Before that, {YEARS} years at {COMPANY} in {CITY:2}, {FOREIGN_COUNTRY}. Say hi at {EMAIL} or {URL}."""),
    T("cv-03", "cv", """
{NAME} | {CITY_REGION} | {PHONE} | {EMAIL}
- {COMPANY}, Team Lead ({DATE} – present)
- {COMPANY:2}, Developer, {CITY:2}
Personal: born {DOB}, driving licence, {URL}"""),
    T("discharge-01", "medical", """
DISCHARGE SUMMARY
Patient {LAST_FIRST}    DOB {DOB}    Admitted {DATE}    Discharged {DATE:2}
GP: Dr {LAST:2}. Next of kin: {NAME:3}, {PHONE:3}.
Meds: {MEASURE} twice daily."""),
    T("rx-01", "medical", """
Rx for {NAME}, {ADDRESS}. Date of birth: {DOB}. Amoxicillin {MEASURE}, {QTY} capsules. Prescriber: Dr. {NAME:2}, tel. {PHONE:2}. Date {DATE}."""),
    T("dental-01", "medical", """
Reminder: {FIRST}, your check-up is on {DATE} at {TIME}. Reply C to confirm. If you have moved from {ADDRESS}, tell us at reception or on {PHONE}."""),
    T("vaccine-01", "medical", """
Vaccination record — {NAME}, born {DOB}. Dose 1: {DATE}, lot {SKU}. Dose 2: {DATE:2}. Contact {EMAIL}."""),
    T("warranty-01", "ticket", """
Warranty registration for model {SKU} (firmware {VERSION}). Owner {NAME}, {ADDRESS}, purchased {DATE}. Serial {ID}. Phone {PHONE}."""),
    T("complaint-01", "ticket", """
I'm writing to complain about case {TICKET}. I'm {NAME}, my account email is {EMAIL} and I've rung {PHONE:2} three times. The engineer never came to {ADDRESS}. I was charged {PRICE} on card {CARD}."""),
    T("conference-01", "form", """
Registration: {NAME} ({COMPANY}, {CITY}, {COUNTRY}). Dietary needs: none. Invoice to {ADDRESS}. Mobile during the event: {PHONE_ANY}."""),
    T("library-01", "form", """
Library card application: {NAME}, {ADDRESS}, date of birth {DOB}, tel. {PHONE}. Card no. {ID}."""),
    # running prose: no field labels before the values
    T("story-01", "letter", """
When {NAME} left {CITY} in {DATE}, nobody expected her to end up running a bakery on {STREET} in {CITY:2}. You can still find her there most mornings, or ring the shop on {PHONE}."""),
    T("story-02", "chat", """
btw {FIRST:2} moved!! she's in {CITY}, {COUNTRY} now, near {STREET}. her new number is {PHONE_ANY}, birthday is {DOB} so don't forget"""),
    T("story-03", "email", """
Dear all, {NAME} has kindly offered to host the reunion at her home, {ADDRESS}, on {DATE}. Please let {FIRST} know by phone ({PHONE}) whether you're coming."""),
    T("story-04", "social", """
Twenty years ago today ({DATE}) {NAME} and {NAME:2} got married in {CITY}. Happy anniversary to my parents! Celebrating at their place on {STREET} tonight."""),
    T("story-05", "ticket", """
Spoke to {NAME} again. He says the meter at {ADDRESS} was read on {DATE} but he'd already moved to {CITY:2} by then. Wants a final bill sent to his sister, {NAME:3}, at {ADDRESS:3}."""),
    T("story-06", "letter", """
I am writing in support of my neighbour {NAME}, who has lived next door to me at {ADDRESS} since {DATE}. I can be reached on {PHONE:2} should you need to verify this."""),
    T("story-07", "chat", """
u still at {STREET}? {FIRST} says the gig moved to {CITY}, starts {TIME}. her bf {FIRST:3} is driving, his cell {PHONE}"""),
    T("story-08", "medical", """
Mrs {LAST} ({DOB}) attended with her son, {NAME:2}, who drove her in from {CITY}. She was last seen here on {DATE}. Home address unchanged ({ADDRESS}); son's mobile {PHONE:2}."""),
    T("story-09", "hr", """
As discussed, {NAME} joins the {CITY} team on {DATE}, moving from {FOREIGN_COUNTRY}. Until the flat on {STREET} is ready we'll put {FIRST} up at a hotel. Personal email: {EMAIL}."""),
    T("story-10", "review", """
The host, {FIRST}, was lovely, and the flat at {ADDRESS} is exactly as pictured. We stayed from {DATE} to {DATE:2}. She even gave us her cousin's number ({PHONE}) for a taxi in {CITY:2}."""),
    # texts without PII
    T("neg-01", "negative", """
A ball is thrown upward at {QTY} m/s. Ignoring drag, after {YEARS} seconds its height is h = v t - 4.9 t^2. Find t when h is {QTY:2} m."""),
    T("neg-02", "negative", """
Final score {QTY}-{QTY:2} after extra time. Possession {PERCENT}, shots on target {QTY:3}. Kick-off was at {TIME}."""),
    T("neg-03", "negative", """
Firmware {VERSION} changelog: battery drain reduced {PERCENT}; Bluetooth stack updated to {VERSION:2}; fixes issue {TICKET}."""),
    T("neg-04", "negative", """
Nutrition per serving: energy {QTY} kcal, fat {MEASURE}, of which saturates {PERCENT}. Best before: see lid. Batch {SKU}."""),
    T("neg-05", "negative", """
Quarterly results: revenue {PRICE}, up {PERCENT}; {QTY} new stores; guidance unchanged. Call starts at {TIME}."""),
    T("neg-06", "negative", """
Timetable: service {ROOM} departs every {YEARS} minutes from {TIME} to {TIME:2}; single fare {PRICE}, day pass {PRICE:2}."""),
    T("neg-07", "negative", """
Spec sheet {SKU}: weight {MEASURE}, {QTY} ports, firmware {VERSION}, warranty {YEARS} years, list price {PRICE}."""),
]
