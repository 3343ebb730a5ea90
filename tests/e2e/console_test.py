#!/usr/bin/env python3
"""End to end: the web console in headless Chromium against the live stack.

Run under tests/support/with_stack.sh (it sets SWITCHYARD_BASE_URL). Drives a real flow through
the page a person would use: upstream health, create a user, write and read data, watch a prefix
live (EventSource), submit a job and follow it live until it succeeds (EventSource; the page does
not poll jobs), check that every table fits its card at 1400 px and scrolls inside it on a narrow
screen, delete the user. Saves a screenshot of the page after the flow to the path in
SWITCHYARD_SCREENSHOT (default console.png in the current directory), and one at 360 px wide next
to it (-narrow.png).
"""

import os
import sys
import time
import uuid

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE = os.environ["SWITCHYARD_BASE_URL"]
SCREENSHOT = os.environ.get("SWITCHYARD_SCREENSHOT", "console.png")


def browser():
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1400,1000"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def row_text(driver, table_body_id):
    return driver.find_element(By.ID, table_body_id).text


def main():
    run = uuid.uuid4().hex[:8]
    email = f"console-{run}@example.com"
    driver = browser()
    wait = WebDriverWait(driver, 15)
    step = "open"
    try:
        driver.get(BASE + "/")
        assert driver.title == "Switchyard console", driver.title

        step = "health shows every upstream SERVING"
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#health span.serving")) >= 3)
        assert not driver.find_elements(By.CSS_SELECTOR, "#health span.down")

        step = "create a user"
        driver.find_element(By.ID, "user-name").send_keys("Console User")
        driver.find_element(By.ID, "user-email").send_keys(email)
        driver.find_element(By.ID, "user-create").click()
        wait.until(lambda d: email in row_text(d, "user-rows"))

        step = "a duplicate email shows the gateway's error"
        driver.find_element(By.ID, "user-name").send_keys("Again")
        driver.find_element(By.ID, "user-email").send_keys(email)
        driver.find_element(By.ID, "user-create").click()
        wait.until(ec.text_to_be_present_in_element((By.ID, "user-error"), "409"))

        step = "write and read data"
        key = f"console/{run}"
        driver.find_element(By.ID, "data-key").send_keys(key)
        driver.find_element(By.ID, "data-value").send_keys("hello from the console")
        driver.find_element(By.ID, "data-put").click()
        wait.until(ec.text_to_be_present_in_element((By.ID, "data-result"), '"version": "1"'))
        driver.find_element(By.ID, "data-value").clear()
        driver.find_element(By.ID, "data-get").click()
        wait.until(lambda d: d.find_element(By.ID, "data-value").get_attribute("value")
                   == "hello from the console")

        step = "watch a prefix live: synced, then each put and delete"
        prefix = f"console/{run}/live/"
        driver.find_element(By.ID, "watch-prefix").send_keys(prefix)
        driver.find_element(By.ID, "watch-start").click()
        wait.until(ec.text_to_be_present_in_element((By.ID, "watch-status"), "(live)"))
        driver.find_element(By.ID, "data-key").clear()
        driver.find_element(By.ID, "data-key").send_keys(prefix + "a")
        driver.find_element(By.ID, "data-value").clear()
        driver.find_element(By.ID, "data-value").send_keys("streamed")
        driver.find_element(By.ID, "data-put").click()
        wait.until(lambda d: f"put {prefix}a 1 streamed" in row_text(d, "watch-rows"))
        assert driver.execute_script(
            "return document.querySelector('#watch-rows tr').dataset.position") != ""

        step = "submit users.report and follow it live until it succeeds"
        Select(driver.find_element(By.ID, "job-type")).select_by_value("users.report")
        driver.find_element(By.ID, "job-submit").click()
        WebDriverWait(driver, 30).until(
            lambda d: "users.report SUCCEEDED" in row_text(d, "job-rows"))
        # Only the job's event stream can have moved the row on: the page does not poll jobs.
        assert driver.execute_script(
            "return performance.getEntriesByType('resource')"
            ".filter(e => e.name.includes('/api/jobs?')).length") == 1

        step = "every table fits its card at 1400 px"
        for table in ("user-table", "watch-table", "job-table"):
            fits = driver.execute_script(
                "const t = document.getElementById(arguments[0]);"
                "const card = t.closest('section').getBoundingClientRect();"
                "const r = t.getBoundingClientRect();"
                "return r.left >= card.left && r.right <= card.right"
                " && t.parentElement.scrollWidth <= t.parentElement.clientWidth;", table)
            assert fits, f"{table} spills out of its card at 1400 px"
        driver.save_screenshot(SCREENSHOT)

        step = "on a narrow screen tables scroll inside their cards"
        driver.set_window_size(360, 1000)
        for table in ("user-table", "job-table"):
            inside = driver.execute_script(
                "const t = document.getElementById(arguments[0]);"
                "const wrap = t.parentElement.getBoundingClientRect();"
                "const card = t.closest('section').getBoundingClientRect();"
                "return wrap.right <= card.right && card.right <= window.innerWidth"
                " && t.parentElement.scrollWidth > t.parentElement.clientWidth;", table)
            assert inside, f"{table} does not scroll inside its card at 360 px"
        driver.save_screenshot(SCREENSHOT.replace(".png", "-narrow.png"))
        driver.set_window_size(1400, 1000)

        step = "delete the user"
        row = driver.find_element(By.XPATH, f"//tbody[@id='user-rows']/tr[td[text()='{email}']]")
        row.find_element(By.TAG_NAME, "button").click()
        wait.until(lambda d: email not in row_text(d, "user-rows"))
        print(f"ok: console flow passed; screenshot in {SCREENSHOT}")
        return 0
    except (AssertionError, TimeoutException) as error:
        driver.save_screenshot(SCREENSHOT)
        print(f"FAIL at step '{step}': {error!r}; screenshot in {SCREENSHOT}", file=sys.stderr)
        return 1
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
